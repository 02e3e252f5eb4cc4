#pragma once
// The one table between the C++ host SDK's error kinds and the C ABI's status codes
// (enum airlock_status in airlock.h), and the names both print.

#include <kj/exception.h>

#include "sdk/host/client.h"

namespace airlock::c_abi {

// The status of a call that came back with `kind` (NONE is AIRLOCK_OK).
int statusOf(CallErrorKind kind);

// The status of a typed call that threw `exception`: airlockd's refusals and failures reach a
// typed call as exceptions whose description starts with the kind's name ("denied: ...",
// broker/host/typed_call.cc), after capnp's "remote exception: "; a lost connection is a
// DISCONNECTED exception; anything else is AIRLOCK_BROKER_ERROR.
int statusOfTypedFailure(const kj::Exception& exception);

}  // namespace airlock::c_abi

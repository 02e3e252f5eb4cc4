#pragma once
// SDK internal: the Fs a call's methods use, speaking to the broker's `Fs` capability
// (sdk/worker/fs.cc). Made by the call in progress (worker.cc) on first use.

#include <airlock/capnp/worker.capnp.h>
#include <kj/async.h>
#include <kj/memory.h>

#include "sdk/worker/fs.h"

namespace airlock::_ {

kj::Own<Fs> brokeredFs(rpc::Fs::Client fs, kj::WaitScope& waitScope);
// Borrows `waitScope` (the worker's main loop), which outlives every call.

OpenedFile fileFrom(rpc::File::Client file, kj::WaitScope& waitScope);
// The descriptor the broker attached to `file` (a file, or a socket for net.connect), dup'd so
// the caller owns it past the capability.

}  // namespace airlock::_

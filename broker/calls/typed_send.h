#pragma once
// The worker end of a call on a unit's typed interface (typed_call.h): the copy that keeps
// capabilities from crossing, and the pipelined send on the worker's `bind`. Event-loop thread
// only.

#include <sys/types.h>

#include <capnp/any.h>
#include <capnp/message.h>
#include <kj/async.h>

#include <airlock/capnp/worker.capnp.h>

#include "broker/calls/dispatch.h"

namespace airlock::broker {

// `reader` copied into a flat message of its own, or null if it holds a capability: one crossing
// would let a worker hand the host an object the broker never checks, or a host hand a worker
// one of the host's.
kj::Maybe<kj::Array<capnp::word>> copyWithoutCapabilities(capnp::AnyPointer::Reader reader);

// Sends `bind` (its caps already set), pipelines the typed call on the object it returns, and
// resolves with its results (copied without capabilities) or WORKER_FAILED when the method
// throws or answers with a capability. Only a broken channel rejects (dispatch's crash path).
kj::Promise<Outcome> sendTyped(capnp::Request<rpc::Worker::BindParams, rpc::Worker::BindResults> bind,
                               const TypedRequest& typed, pid_t pid);

}  // namespace airlock::broker

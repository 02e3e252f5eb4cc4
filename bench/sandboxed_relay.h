#pragma once
// The floor of a mediated call with airlockd's own far end: a bare relay in front of the same
// sandboxed airlock-bench-worker airlockd calls, in the same sandbox, over the same worker
// interface (capnp/worker.capnp), with no policy, no audit, no admission and no capabilities.
// Against it, airlockd's figures are what mediation costs; against the bare relay
// (bench/bare_servers.h), they also carry what the sandbox and the worker SDK cost.

#include <string>

#include <kj/io.h>

#include "bench/child_process.h"
#include "sandbox/launcher.h"

namespace airlock::bench {

// The sandbox airlockd gives the bench unit's worker (BrokerRunner's one-unit policy, loaded
// with `binDir` as the workers directory): the same spec, from the same function
// (broker::sandboxSpecFor).
sandbox::SandboxSpec benchWorkerSandbox(const std::string& binDir);

// A child that launches airlock-bench-worker under `spec`, warms it up as airlockd does (hello,
// then a call of no method), and then serves a Cap'n Proto `rpc::Unit` on `hostSide` whose call()
// sends the worker a `Worker.call` with the same method and payload and no capabilities, and
// copies its answer back. A refused syscall kills the worker (as under airlockd's default), and
// the next call fails. `hostSide` is the child's; the parent's copy closes when this returns.
// Call before this process starts a kj event loop (ChildProcess's rule).
ChildProcess startRelayToSandboxedWorker(kj::AutoCloseFd hostSide, sandbox::SandboxSpec spec);

}  // namespace airlock::bench

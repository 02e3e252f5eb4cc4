#pragma once
// The baselines: the same kinds of exchange as through airlockd, but straight between two
// processes over a socketpair, with no broker, policy or audit in between.

#include <kj/io.h>

#include "bench/child_process.h"

namespace airlock::bench {

// A child that echoes 64-byte messages with plain read/write.
ChildProcess startRawEcho(kj::AutoCloseFd socket);

// A child serving a Cap'n Proto `rpc::Unit` (capnp/host.capnp) whose call() answers its payload.
ChildProcess startBareUnit(kj::AutoCloseFd socket);

// A child serving a Cap'n Proto `rpc::Fs` (capnp/worker.capnp) whose open() opens the path with
// open(2) and passes the fd, as airlockd does, without policy or audit.
ChildProcess startBareFs(kj::AutoCloseFd socket);

}  // namespace airlock::bench

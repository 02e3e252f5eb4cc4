#pragma once
// The baselines: the same kinds of exchange as through airlockd, but straight between two
// processes over a socketpair, or through a bare relay, with no broker, policy or audit in between.

#include <kj/async-io.h>
#include <kj/io.h>

#include "bench/child_process.h"

namespace airlock::bench {

// The stream the no-op exchanges run on at every end, baselines and host alike: airlock's own
// (capnp/socket_stream.h), as airlockd, its workers and the host SDK use, so that a baseline
// differs from the brokered path only in what is behind the host's socket, not in how a socket is
// read and written (kj's own wakes a process each time its peer reads a message). Borrows `fd`:
// the stream owns a duplicate.
kj::Own<kj::AsyncCapabilityStream> airlockStream(kj::AsyncIoContext& io, int fd);

// A child that echoes 64-byte messages with plain read/write.
ChildProcess startRawEcho(kj::AutoCloseFd socket);

// A child serving a Cap'n Proto `rpc::Unit` (capnp/host.capnp) whose call() answers its payload.
ChildProcess startBareUnit(kj::AutoCloseFd socket);

// A child serving a Cap'n Proto `rpc::Unit` on `hostSide` whose call() makes the same call on its
// own connection `onward` (to a startBareUnit child) and copies the answer back: the least a process
// between a host and a server does per call, with no policy and no audit. The floor of a mediated
// call, against which airlockd's no-op call is judged (issue 15). Both fds are the child's; the
// parent's copies close when this returns.
ChildProcess startBareRelay(kj::AutoCloseFd hostSide, kj::AutoCloseFd onward);

// A child serving a Cap'n Proto `rpc::Fs` (capnp/worker.capnp) whose open() opens the path with
// open(2) and passes the fd, as airlockd does, without policy or audit.
ChildProcess startBareFs(kj::AutoCloseFd socket);

}  // namespace airlock::bench

#pragma once
// A host connection's stream that holds back what it reads while the connection is paused after
// a `busy` answer (HostConnectionState::answeredBusy, BUSY_READ_PAUSE). The bytes are delivered
// to the RPC system when the pause ends, so a client that retries at once, or pipelines calls
// behind a refused one, waits on its own socket: the broker does not spend its loop answering
// `busy` to a flood. Holding the bytes after the read, not only delaying the next read, matters:
// a read already waiting in epoll when the refusal is decided would otherwise return the retry
// at once.
//
// Broker-side, event-loop thread only.

#include <kj/async-io.h>
#include <kj/timer.h>

#include "broker/host/gateway.h"
#include "broker/server/forwarding_stream.h"

namespace airlock::broker {

class BusyPausedStream final : public ForwardingStream {
 public:
  BusyPausedStream(kj::Own<kj::AsyncCapabilityStream> inner, kj::Own<HostConnectionState> connection,
                   kj::Timer& timer)
      : ForwardingStream(kj::mv(inner)), connection_(kj::mv(connection)), timer_(timer) {}

  kj::Promise<size_t> tryRead(void* buffer, size_t minBytes, size_t maxBytes) override;
  kj::Promise<ReadResult> tryReadWithFds(void* buffer, size_t minBytes, size_t maxBytes,
                                         kj::AutoCloseFd* fdBuffer, size_t maxFds) override;

 private:
  kj::Promise<void> pauseOver();

  kj::Own<HostConnectionState> connection_;
  kj::Timer& timer_;
};

}  // namespace airlock::broker

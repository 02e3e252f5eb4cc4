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

namespace airlock::broker {

class BusyPausedStream final : public kj::AsyncIoStream {
 public:
  BusyPausedStream(kj::Own<kj::AsyncIoStream> inner, kj::Own<HostConnectionState> connection,
                   kj::Timer& timer)
      : inner_(kj::mv(inner)), connection_(kj::mv(connection)), timer_(timer) {}

  kj::Promise<size_t> tryRead(void* buffer, size_t minBytes, size_t maxBytes) override;
  kj::Promise<void> write(const void* buffer, size_t size) override {
    return inner_->write(buffer, size);
  }
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override {
    return inner_->write(pieces);
  }
  kj::Promise<void> whenWriteDisconnected() override { return inner_->whenWriteDisconnected(); }
  void shutdownWrite() override { inner_->shutdownWrite(); }
  void abortRead() override { inner_->abortRead(); }

 private:
  kj::Promise<void> pauseOver();

  kj::Own<kj::AsyncIoStream> inner_;
  kj::Own<HostConnectionState> connection_;
  kj::Timer& timer_;
};

}  // namespace airlock::broker

#pragma once
// The host connection's stream layers (BudgetedStream, BusyPausedStream, PeerMessageBounds) each
// change one thing about a stream and pass the rest to the one beneath: this is the rest. Each
// layer sees every read, with fds (a connection that takes descriptor grants) or without.
//
// Broker-side, event-loop thread only.

#include <kj/async-io.h>
#include <kj/debug.h>

namespace airlock::broker {

class ForwardingStream : public kj::AsyncCapabilityStream {
 public:
  explicit ForwardingStream(kj::Own<kj::AsyncCapabilityStream> inner) : inner_(kj::mv(inner)) {}

  kj::Promise<size_t> tryRead(void* buffer, size_t minBytes, size_t maxBytes) override {
    return inner_->tryRead(buffer, minBytes, maxBytes);
  }
  kj::Promise<ReadResult> tryReadWithFds(void* buffer, size_t minBytes, size_t maxBytes,
                                         kj::AutoCloseFd* fdBuffer, size_t maxFds) override {
    return inner_->tryReadWithFds(buffer, minBytes, maxBytes, fdBuffer, maxFds);
  }
  kj::Promise<ReadResult> tryReadWithStreams(void*, size_t, size_t,
                                             kj::Own<kj::AsyncCapabilityStream>*,
                                             size_t) override {
    KJ_UNIMPLEMENTED("host connections never carry streams");
  }
  kj::Promise<void> write(const void* buffer, size_t size) override {
    return inner_->write(buffer, size);
  }
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override {
    return inner_->write(pieces);
  }
  kj::Promise<void> writeWithFds(kj::ArrayPtr<const kj::byte> data,
                                 kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> moreData,
                                 kj::ArrayPtr<const int> fds) override {
    return inner_->writeWithFds(data, moreData, fds);
  }
  kj::Promise<void> writeWithStreams(kj::ArrayPtr<const kj::byte>,
                                     kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>>,
                                     kj::Array<kj::Own<kj::AsyncCapabilityStream>>) override {
    KJ_UNIMPLEMENTED("host connections never carry streams");
  }
  kj::Promise<void> whenWriteDisconnected() override { return inner_->whenWriteDisconnected(); }
  void shutdownWrite() override { inner_->shutdownWrite(); }
  void abortRead() override { inner_->abortRead(); }

 protected:
  kj::AsyncCapabilityStream& inner() { return *inner_; }

 private:
  kj::Own<kj::AsyncCapabilityStream> inner_;
};

}  // namespace airlock::broker

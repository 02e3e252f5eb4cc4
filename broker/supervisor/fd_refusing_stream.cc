#include "broker/supervisor/fd_refusing_stream.h"

#include <kj/debug.h>

namespace airlock::broker {

kj::Promise<size_t> FdRefusingStream::tryRead(void* buffer, size_t minBytes, size_t maxBytes) {
  return inner_->tryRead(buffer, minBytes, maxBytes).then([this](size_t n) {
    return budget_.onRead(n, *inner_);
  });
}

kj::Promise<FdRefusingStream::ReadResult> FdRefusingStream::tryReadWithFds(
    void* buffer, size_t minBytes, size_t maxBytes, kj::AutoCloseFd*, size_t) {
  // Deliberately no fd buffer: see the class comment.
  return inner_->tryRead(buffer, minBytes, maxBytes).then([this](size_t n) {
    return ReadResult{budget_.onRead(n, *inner_), 0};
  });
}

kj::Promise<FdRefusingStream::ReadResult> FdRefusingStream::tryReadWithStreams(
    void* buffer, size_t minBytes, size_t maxBytes, kj::Own<kj::AsyncCapabilityStream>*,
    size_t) {
  return inner_->tryRead(buffer, minBytes, maxBytes).then([this](size_t n) {
    return ReadResult{budget_.onRead(n, *inner_), 0};
  });
}

kj::Promise<void> FdRefusingStream::write(const void* buffer, size_t size) {
  return budget_.track(inner_->write(buffer, size));
}

kj::Promise<void> FdRefusingStream::write(
    kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  return budget_.track(inner_->write(pieces));
}

kj::Promise<void> FdRefusingStream::writeWithFds(
    kj::ArrayPtr<const kj::byte> data, kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> moreData,
    kj::ArrayPtr<const int> fds) {
  return budget_.track(inner_->writeWithFds(data, moreData, fds));
}

kj::Promise<void> FdRefusingStream::writeWithStreams(
    kj::ArrayPtr<const kj::byte>, kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>>,
    kj::Array<kj::Own<kj::AsyncCapabilityStream>>) {
  KJ_FAIL_REQUIRE("the broker never sends streams to a worker");
}

kj::Promise<void> FdRefusingStream::whenWriteDisconnected() {
  return inner_->whenWriteDisconnected();
}

void FdRefusingStream::shutdownWrite() { inner_->shutdownWrite(); }
void FdRefusingStream::abortRead() { inner_->abortRead(); }

}  // namespace airlock::broker

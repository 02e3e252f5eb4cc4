#include "broker/server/budgeted_stream.h"

namespace airlock::broker {

kj::Promise<size_t> BudgetedStream::tryRead(void* buffer, size_t minBytes, size_t maxBytes) {
  return inner().tryRead(buffer, minBytes, maxBytes).then([this](size_t n) {
    return budget_.onRead(n, inner());
  });
}

kj::Promise<BudgetedStream::ReadResult> BudgetedStream::tryReadWithFds(
    void* buffer, size_t minBytes, size_t maxBytes, kj::AutoCloseFd* fdBuffer, size_t maxFds) {
  return inner().tryReadWithFds(buffer, minBytes, maxBytes, fdBuffer, maxFds)
      .then([this](ReadResult read) {
        read.byteCount = budget_.onRead(read.byteCount, inner());
        return read;
      });
}

kj::Promise<void> BudgetedStream::write(const void* buffer, size_t size) {
  return budget_.track(inner().write(buffer, size));
}

kj::Promise<void> BudgetedStream::write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  return budget_.track(inner().write(pieces));
}

}  // namespace airlock::broker

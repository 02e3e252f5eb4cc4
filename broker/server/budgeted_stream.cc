#include "broker/server/budgeted_stream.h"

namespace airlock::broker {

kj::Promise<size_t> BudgetedStream::tryRead(void* buffer, size_t minBytes, size_t maxBytes) {
  return inner_->tryRead(buffer, minBytes, maxBytes).then([this](size_t n) {
    return budget_.onRead(n, *inner_);
  });
}

kj::Promise<void> BudgetedStream::write(const void* buffer, size_t size) {
  return budget_.track(inner_->write(buffer, size));
}

kj::Promise<void> BudgetedStream::write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  return budget_.track(inner_->write(pieces));
}

}  // namespace airlock::broker

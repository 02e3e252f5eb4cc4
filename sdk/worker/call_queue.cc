#include "sdk/worker/call_queue.h"

namespace airlock::_ {

void CallQueue::push(kj::Own<PendingCall> call) {
  KJ_IF_MAYBE(waiter, waiter_) {
    auto fulfiller = kj::mv(*waiter);
    waiter_ = nullptr;
    fulfiller->fulfill(kj::Maybe<kj::Own<PendingCall>>(kj::mv(call)));
    return;
  }
  calls_.push_back(kj::mv(call));
}

kj::Promise<kj::Maybe<kj::Own<PendingCall>>> CallQueue::next() {
  if (!calls_.empty()) {
    auto call = kj::mv(calls_.front());
    calls_.pop_front();
    return kj::Maybe<kj::Own<PendingCall>>(kj::mv(call));
  }
  auto paf = kj::newPromiseAndFulfiller<kj::Maybe<kj::Own<PendingCall>>>();
  waiter_ = kj::mv(paf.fulfiller);
  return kj::mv(paf.promise);
}

}  // namespace airlock::_

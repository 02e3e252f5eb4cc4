#include "broker/state/calls_cut_off.h"

#include <kj/debug.h>

namespace airlock::broker {

kj::Promise<void> CallsCutOff::whenCut() {
  if (cut_) return kj::READY_NOW;
  KJ_IF_MAYBE(forked, cutPromise_) { return forked->addBranch(); }
  auto paf = kj::newPromiseAndFulfiller<void>();
  fulfiller_ = kj::mv(paf.fulfiller);
  cutPromise_ = paf.promise.fork();
  KJ_IF_MAYBE(forked, cutPromise_) { return forked->addBranch(); }
  KJ_UNREACHABLE;
}

void CallsCutOff::cut() {
  cut_ = true;
  KJ_IF_MAYBE(fulfiller, fulfiller_) { (*fulfiller)->fulfill(); }
}

}  // namespace airlock::broker

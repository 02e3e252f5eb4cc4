#pragma once
// The end of a drain: past airlockd's drain deadline, every call still waiting on a worker is
// answered at once ("airlockd is stopping"), so that it gets its answer and its audit record
// before the closing checkpoint, instead of being dropped with its connection after it (which
// left a log the verifier rejects, and a pool recording into a closed log). Event-loop thread
// only; one per airlockd, in Routing.

#include <kj/async.h>

namespace airlock::broker {

class CallsCutOff {
 public:
  kj::Promise<void> whenCut();
  // Resolves when cut() is called (at once if it was); never rejects. One branch per call.

  void cut();  // answers every waiting whenCut(); later ones resolve at once
  bool isCut() const { return cut_; }

 private:
  bool cut_ = false;
  // Made on the first whenCut(): a promise needs the event loop, which Routing may predate.
  kj::Maybe<kj::Own<kj::PromiseFulfiller<void>>> fulfiller_;
  kj::Maybe<kj::ForkedPromise<void>> cutPromise_;
};

}  // namespace airlock::broker

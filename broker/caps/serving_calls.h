#pragma once
// The calls one worker is serving now, so that the records about the worker which no call's
// capability writes — its own brokered syscalls, a syscall its sandbox refused, its exit — name
// the call they belong to (`call_id`), and a crash can be traced to the request that caused it.
//
// A call is in service from dispatch until its answer (or crash, or deadline) is settled: the
// Serving token returned by begin() ends it when destroyed. Once airlockd kills the worker
// (freeze()), the calls in service then stay on it: a worker killed at a call's deadline still
// names that call on its `worker.exit`, although the call was answered before the exit was seen.
//
// Refcounted: the worker, its syscall broker and each token share it, whichever goes last.
// Broker-side, event-loop thread only.

#include <kj/refcount.h>

#include <string>
#include <vector>

#include "audit/audit_log.h"

namespace airlock::broker {

class ServingCalls final : public kj::Refcounted {
 public:
  class Serving {
   public:
    Serving(kj::Own<ServingCalls> calls, uint64_t number)
        : calls_(kj::mv(calls)), number_(number) {}
    Serving(Serving&&) = default;
    ~Serving();
    KJ_DISALLOW_COPY(Serving);

   private:
    kj::Own<ServingCalls> calls_;
    uint64_t number_;
  };

  // `callId` and `caller` as the call's own records carry them.
  [[nodiscard]] Serving begin(std::string callId, std::string caller);

  // From now on no call leaves (the worker is being killed; see above).
  void freeze() { frozen_ = true; }

  // Names the call(s) in `record`: one call in service sets `call_id` (and `caller`, when the
  // record has none); several set `args.serving_call_ids`, every id in the order the calls
  // began, since the worker's own act cannot be told apart between them. None: unchanged. A
  // record that already has a `call_id` keeps it.
  void tag(audit::AuditRecord& record) const;

 private:
  struct Call {
    uint64_t number;
    std::string callId, caller;
  };
  void end(uint64_t number);

  std::vector<Call> calls_;  // in the order they began; a worker serves few at once
  uint64_t nextNumber_ = 0;
  bool frozen_ = false;
};

}  // namespace airlock::broker

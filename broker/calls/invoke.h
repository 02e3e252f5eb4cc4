#pragma once
// invoke for workers: the broker-side `Units` capability. Handed to a worker only with a call,
// and only if its unit's policy has an invoke allow rule (UnitPolicy::allowsAny). One invoke is
// a nested call: the caller's invoke rules decide, then the callee's call rules with the calling
// unit as caller (caller_unit), then a worker of the callee runs it with its own capabilities,
// scoped to the nested call. Both sides are audited under one new call id. Broker-side,
// event-loop thread only.

#include <kj/refcount.h>
#include <kj/timer.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <airlock/capnp/worker.capnp.h>

#include "broker/caps/call_scope.h"
#include "broker/state/routing.h"

namespace airlock::broker {

struct Outcome;  // broker/calls/dispatch.h
namespace _ {
struct InvokeRecords;  // units.cc
}

// Nested invokes below a host's call, at most: host -> a -> b -> c -> d -> e. Every level keeps
// a worker of each unit above it blocked waiting, so a deep chain ties up workers of several
// units for one host call; four is more than the compositions policies describe need.
inline constexpr size_t MAX_INVOKE_DEPTH = 4;

// What the audit records name as the rule when the chain refused an invoke.
inline constexpr std::string_view INVOKE_CYCLE_RULE_ID = "invoke.cycle";
inline constexpr std::string_view INVOKE_DEPTH_RULE_ID = "invoke.max_depth";

// The calls one `Units` capability's invokes are nested in.
struct InvokeChain {
  std::vector<std::string> units;
  // The unit of each call on the chain, the host's callee first and this capability's own unit
  // last. Invoking any of them again (a cycle, including a unit invoking itself) is refused: the
  // worker on the chain is blocked waiting and could deadlock its unit.
  kj::TimePoint deadline;  // this unit's call's deadline; a nested call ends by it
};

class UnitsServer final : public rpc::Units::Server {
 public:
  // Borrows `routing` (main() owns it; it outlives every call). `policySet` is the set the
  // calling call was decided by: the callee is decided by the same one.
  UnitsServer(kj::Own<CallScope> scope, Routing& routing,
              std::shared_ptr<const PolicySet> policySet, InvokeChain chain)
      : scope_(kj::mv(scope)), routing_(routing), policySet_(kj::mv(policySet)),
        chain_(kj::mv(chain)) {}

  kj::Promise<void> invoke(InvokeContext context) override;
  // receive -> decide the caller's side (chain, then invoke rules) -> decide the callee's side
  // (its call rules for caller_unit) -> dispatch to a callee worker, counted in flight, by the
  // earlier of the callee's timeout and this call's deadline -> audit both sides -> reply
  // ok / error / denied / failed. The part after the decisions runs in Routing::invokeTasks, so
  // every invoke gets its records whatever happens to the calling worker. A failed audit append
  // turns the answer into a denial.

 private:
  struct Callee;
  // The caller's and the callee's decisions (recorded in `records`), then the dispatch if both
  // allow: the invoke's outcome.
  kj::Promise<Outcome> decideAndDispatch(const std::string& callee, const std::string& method,
                                         capnp::Data::Reader payload,
                                         _::InvokeRecords& records);
  policy::Decision decideCallerSide(const std::string& callee, const std::string& method) const;
  Callee decideCalleeSide(const std::string& callee, const std::string& method,
                          size_t payloadBytes, audit::AuditRecord& record) const;
  // Fills the callee's record (all but its call id) with the callee's decision.

  kj::Own<CallScope> scope_;
  Routing& routing_;
  std::shared_ptr<const PolicySet> policySet_;
  InvokeChain chain_;
};

}  // namespace airlock::broker

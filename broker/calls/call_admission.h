#pragma once
// Whether a host's call may go to a unit at all: the checks every call on a unit passes before a
// worker sees it, whether it came through the generic `Unit.call` or the unit's typed interface.
// Event-loop thread only.

#include <chrono>
#include <memory>
#include <string>

#include <airlock/capnp/host.capnp.h>

#include "broker/policy/decide/decide.h"
#include "broker/policy/model/call_grant.h"
#include "broker/state/flow_limit.h"
#include "broker/state/host_connection.h"
#include "broker/state/routing.h"

namespace airlock::broker {

// An admitted call's place in its unit's flow limits (flow_limit.h), given back when it dies:
// keep it until the call is answered.
class FlowSlot {
 public:
  explicit FlowSlot(UnitFlow& flow) : flow_(flow) {}
  ~FlowSlot() { flow_.release(); }
  FlowSlot(const FlowSlot&) = delete;
  FlowSlot& operator=(const FlowSlot&) = delete;

 private:
  UnitFlow& flow_;
};

struct CallAdmission {
  bool admitted = false;
  // When admitted: the unit (of the set the call is decided by) and its pool.
  std::shared_ptr<const policy::UnitPolicy> unit;
  std::shared_ptr<UnitPool> pool;
  policy::Decision decision;  // the call rule's decision (allow when admitted)
  std::unique_ptr<FlowSlot> flowSlot;  // when admitted
  std::vector<policy::CallGrant> grants;
  // When admitted: the call's grants, each with the grant rule that allowed it (call_grant.h).
  // When refused: what the caller is told, and the rule the audit record names.
  rpc::ErrorKind kind = rpc::ErrorKind::INTERNAL;
  std::string ruleId;
  std::string reason;
};

// The `call` record of a new host call, before its decision: a fresh call id, the caller, the
// unit, the revision of `policySet`, and args method and payload_bytes.
audit::AuditRecord newCallRecord(Routing& routing, const PolicySet& policySet,
                                 const std::string& callerForAudit, const std::string& unitName,
                                 const std::string& method, size_t payloadBytes);

// A refused host call (call, typed call or run) on record: `record` gets the deny, the rule, the
// reason, the kind as its result and the time since `started`; a `busy` answer pauses the
// connection first. False if the log refused the record: the host is then told `internal`.
[[nodiscard]] bool recordHostRefusal(Routing& routing, HostConnectionState& connection,
                                     audit::AuditRecord& record, rpc::ErrorKind kind,
                                     const std::string& ruleId, const std::string& reason,
                                     std::chrono::steady_clock::time_point started);

// An admitted call is recorded before any worker sees it (recordAdmitted, caps/call_scope.h:
// event call.admitted); if the log refuses, it is not dispatched and its caller is answered
// INTERNAL. The `call` record with the outcome follows when the call is answered.

// The checks after a unit's call rules allowed a call, from a host or an invoking unit alike: a
// parked unit is unavailable (rule unit.crash_loop_limit or unit.restart), one at its flow limits
// is busy. Admitted: `admitted` and `flowSlot` only are set.
CallAdmission admitToRun(Routing& routing, const policy::UnitPolicy& unit, UnitPool& pool);

// Who a call comes from: a host on one of its connections, or a unit invoking another for the
// call its worker serves.
struct CallOrigin {
  policy::Caller caller;
  const HostConnectionState* connection = nullptr;  // a host's connection; null for an invoke

  static CallOrigin host(policy::Caller caller, const HostConnectionState& connection) {
    return CallOrigin{caller, &connection};
  }
  static CallOrigin unit(std::string_view name) { return CallOrigin{policy::Caller::unit(name)}; }
};

// The one admission of a call to a unit, whether a host's `Unit.call`, its typed call or a
// unit's `invoke`, so that all three give the same answer and record for the same cause. In
// order: a draining broker refuses (unit unavailable); a connection with
// MAX_CALLS_IN_FLIGHT_PER_CONNECTION calls unanswered is busy (rule
// connection.max_calls_in_flight); a host caller whose key a reload removed is
// refused; an unknown unit is NO_SUCH_UNIT; a payload over the unit's max_payload_bytes is a bad
// request (rule unit.max_payload_bytes); then the unit's call rules decide for this caller and
// method; then every grant the caller hands the call, by the unit's grant rules (a refused one
// refuses the call, DENIED, naming the grant's deciding rule: call_grants.h); then admitToRun.
// Borrows everything for the call only.
CallAdmission admitCall(Routing& routing, const std::shared_ptr<const PolicySet>& policySet,
                        const CallOrigin& origin, const std::string& unitName,
                        const std::string& method, size_t payloadBytes,
                        std::vector<policy::CallGrant> grants = {});

}  // namespace airlock::broker

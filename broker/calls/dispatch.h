#pragma once
// The part of the per-call path a host's call (host/unit_call.cc) and a unit's invoke
// (calls/invoke.cc) share once the call is allowed: a worker of the unit, the call's
// capabilities, the deadline, the worker's answer (or its crash or silence) as one Outcome, and
// the in-flight count that a draining broker waits for. Broker-side, event-loop thread only.

#include <sys/types.h>

#include <capnp/message.h>
#include <kj/async.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <airlock/capnp/host.capnp.h>

#include "broker/policy/model/call_grant.h"
#include "broker/state/routing.h"

namespace airlock::broker {

// How one dispatched call ended.
struct Outcome {
  bool ok = false;
  rpc::ErrorKind kind = rpc::ErrorKind::INTERNAL;
  std::string text;  // the reply payload when ok, the error message otherwise
  pid_t workerPid = 0;
  // A typed call's results, copied without capabilities. Shared: a forked outcome is copied.
  std::shared_ptr<const kj::Array<capnp::word>> typedResults;
  std::optional<uint64_t> workerCpuMicros;
  // CPU time the worker's cgroup leaf used while the call was in it (other calls the worker
  // served at the same time included); none when the worker runs without a leaf.

  static Outcome success(std::string payload, pid_t pid) {
    return Outcome{true, rpc::ErrorKind::INTERNAL, kj::mv(payload), pid, nullptr, std::nullopt};
  }
  static Outcome failure(rpc::ErrorKind kind, std::string message, pid_t pid = 0) {
    return Outcome{false, kind, kj::mv(message), pid, nullptr, std::nullopt};
  }
  std::string describe() const;  // "ok", or "timed out: no answer within ..." for audit results
};

const char* errorKindName(rpc::ErrorKind kind);  // "denied", "unit crashed", ...

void recordWorker(audit::AuditRecord& record, const Outcome& outcome);
// The worker that served the call, on its `call` record: its pid and, when measured, the CPU
// time it spent on the call ("cpu_us"), which `airlock audit stats` sums per unit and caller.

// Microseconds from `start` to now: a record's duration_us.
int64_t microsSince(std::chrono::steady_clock::time_point start);

// A call on a unit's typed interface (typed_call.h): what is pipelined on the worker's
// `bind(caps)` instead of `Worker.call`.
struct TypedRequest {
  uint64_t interfaceId = 0;
  uint16_t methodId = 0;
  kj::Array<capnp::word> params;  // copied without capabilities (typed_send.h)
};

// One allowed call to hand to a worker. Built with designated initializers: the optional fields
// keep their defaults.
struct Dispatch {
  std::shared_ptr<const PolicySet> policySet;       // the set the call is decided by
  std::shared_ptr<const policy::UnitPolicy> unit;   // points into policySet
  std::shared_ptr<UnitPool> pool;
  std::string method;
  kj::Array<kj::byte> payload = nullptr;  // empty for a typed call
  std::string caller;  // the audit form: "client:web,uid:1000" or "unit:front"
  std::string callId;
  std::vector<std::string> chain = {};
  // The units whose calls this one is nested in, outermost first (empty for a host's call). The
  // worker's `units` capability refuses any of them and `unit` itself.
  kj::Maybe<kj::TimePoint> notAfter = nullptr;
  // The deadline is the earlier of this and the unit's call_timeout_ms from dispatch: a nested
  // call's never passes its caller's; a host may shorten its own (Unit.call's timeoutMs).
  kj::Maybe<TypedRequest> typed = nullptr;  // set for a typed call; `method` is then its schema name
  std::string notAfterWhy = "no answer before the calling unit's own deadline";
  std::vector<policy::CallGrant> grants = {};
  // What the caller handed this call, admitted (call_admission.h): the call's capabilities decide
  // fs.open by them, until the call ends.
  // The timed-out answer's text when `notAfter` decided.
};

kj::Promise<Outcome> dispatchToWorker(Routing& routing, Dispatch dispatch);
// Waits for a ready worker of the pool, sends it the call with the capabilities the unit's
// policy grants (expired when the call ends), and resolves with its answer; with UNIT_CRASHED if
// it dies, TIMED_OUT (after killing it) past the deadline, UNIT_UNAVAILABLE if none runs. Never
// rejects for the worker's doing. `routing` must outlive the promise.

// Counts a call as in flight (Routing::callsInFlight and the pool's) for as long as it lives:
// from dispatch until the answer is written, so a draining broker waits for it.
class InFlight {
 public:
  InFlight(Routing& routing, std::shared_ptr<UnitPool> pool);
  ~InFlight();
  KJ_DISALLOW_COPY(InFlight);

 private:
  Routing& routing_;
  std::shared_ptr<UnitPool> pool_;
};

}  // namespace airlock::broker

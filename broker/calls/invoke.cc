#include "broker/calls/invoke.h"

#include <algorithm>
#include <chrono>

#include "broker/calls/call_admission.h"
#include "broker/calls/dispatch.h"
#include "broker/caps/worker_requests.h"
#include "broker/policy/decide/decide.h"
#include "broker/policy/model/printable.h"

namespace airlock::broker {

namespace _ {

// At most `limit` bytes of worker-sent text: one byte past a bound is enough for decide to
// refuse it, and nothing longer is copied.
std::string bounded(capnp::Text::Reader text, size_t limit) {
  return std::string(text.begin(), kj::min(text.size(), limit));
}

std::string joined(const std::vector<std::string>& units) {
  std::string out;
  for (auto& unit : units) out += (out.empty() ? "" : " -> ") + unit;
  return out;
}

// A refusal by a bound rather than by a policy rule, named by `ruleId`.
policy::Decision denial(std::string_view ruleId, std::string reason) {
  return policy::Decision{policy::Verdict::DENY, std::string(ruleId), kj::mv(reason), nullptr};
}

// The records of one invoke: the caller's (event invoke) and, once the callee's side was
// decided, the callee's (event call). Each is written exactly once, with the answer.
struct InvokeRecords {
  audit::AuditRecord caller;
  kj::Maybe<audit::AuditRecord> callee;

  // Sets results and durations and appends both; false if either append failed.
  bool write(audit::AuditLog& audit, const Outcome& outcome,
             std::chrono::steady_clock::time_point started) {
    caller.result = outcome.describe();
    caller.durationMicros = microsSince(started);
    bool written = audit.append(caller);
    KJ_IF_MAYBE(record, callee) {
      recordWorker(*record, outcome);
      // A call the callee's side refused is recorded as a host's refused call is: its kind.
      record->result = record->decision == "deny" ? std::string(errorKindName(outcome.kind))
                                                  : caller.result;
      record->durationMicros = caller.durationMicros;
      written = audit.append(*record) && written;
    }
    return written;
  }
};

void setAnswer(rpc::InvokeResult::Builder result, const Outcome& outcome) {
  if (outcome.ok) {
    result.setOk(kj::arrayPtr(reinterpret_cast<const kj::byte*>(outcome.text.data()),
                              outcome.text.size()));
  } else if (outcome.kind == rpc::ErrorKind::DENIED) {
    result.setDenied(outcome.text);
  } else if (outcome.kind == rpc::ErrorKind::WORKER_FAILED) {
    result.setError(outcome.text);  // the callee's method reported it
  } else {
    result.setFailed(outcome.describe());
  }
}

Outcome refusal(const policy::Decision& decision) {
  KJ_IF_MAYBE(text, refusalAnswer(true, decision)) {
    return Outcome::failure(rpc::ErrorKind::DENIED, *text);
  }
  KJ_FAIL_ASSERT("a refusal of an allowed decision", decision.ruleId);
}

}  // namespace _

// The callee's side: its policy and pool when its call rules allow, else the refusal.
struct UnitsServer::Callee {
  std::shared_ptr<const policy::UnitPolicy> unit;
  std::shared_ptr<UnitPool> pool;
  std::unique_ptr<FlowSlot> flowSlot;  // the callee's flow limits count the call until answered
  policy::Decision decision;  // its call rules' allow
  kj::Maybe<Outcome> refused;
};

kj::Promise<void> UnitsServer::invoke(InvokeContext context) {
  auto started = std::chrono::steady_clock::now();
  // Receive: copy what the worker sent, bounded, before deciding anything on it.
  auto params = context.getParams();
  std::string callee = _::bounded(params.getUnit(), policy::MAX_UNIT_NAME_BYTES + 1);
  std::string method = _::bounded(params.getMethod(), policy::MAX_METHOD_NAME_BYTES + 1);
  auto payload = params.getPayload();
  auto records = kj::heap<_::InvokeRecords>();
  records->caller = scope_->record(std::string(requests::UNITS_INVOKE.event));
  records->caller.callId = routing_.newCallId();  // shared by both sides' records
  records->caller.args["unit"] = callee;
  records->caller.args["method"] = method;
  records->caller.args["payload_bytes"] = payload.size();
  records->caller.args["parent_call_id"] = scope_->callId;

  // Decide both sides; act if both allow.
  kj::Promise<Outcome> outcome = decideAndDispatch(callee, method, payload, *records);

  // Audit both sides, then reply. In invokeTasks: the records are written even if the calling
  // worker dies and this RPC call is dropped.
  auto done = outcome
                  .then([&audit = routing_.audit, records = kj::mv(records),
                         started](Outcome o) mutable {
                    if (!records->write(audit, o, started)) {
                      o = Outcome::failure(rpc::ErrorKind::DENIED,
                                           refusalAnswer(false, policy::Decision{}).orDefault(""));
                    }
                    return o;
                  })
                  .fork();
  routing_.invokeTasks.add(done.addBranch().ignoreResult());
  return done.addBranch().then([context](Outcome o) mutable {
    _::setAnswer(context.getResults().initResult(), o);
  });
}

kj::Promise<Outcome> UnitsServer::decideAndDispatch(const std::string& callee,
                                                    const std::string& method,
                                                    capnp::Data::Reader payload,
                                                    _::InvokeRecords& records) {
  policy::Decision decision = decideCallerSide(callee, method);
  recordDecision(records.caller, decision);
  if (!decision.allowed()) return _::refusal(decision);

  audit::AuditRecord& record = records.callee.emplace();
  record.callId = records.caller.callId;
  Callee c = decideCalleeSide(callee, method, payload.size(), record);
  KJ_IF_MAYBE(refused, c.refused) { return kj::mv(*refused); }
  if (routing_.timer.now() >= chain_.deadline) {
    return Outcome::failure(rpc::ErrorKind::TIMED_OUT,
                            "the calling unit's deadline passed before the invoke");
  }
  // Record: no callee worker sees a call the log has not taken.
  if (!recordAdmitted(routing_.audit, record, c.decision)) {
    return Outcome::failure(rpc::ErrorKind::INTERNAL, "the broker cannot write its audit log");
  }
  // A callee worker, with its own capabilities, by the earlier deadline; counted in flight until
  // the answer is in (the records are written in the same turn).
  auto inFlight = kj::heap<InFlight>(routing_, c.pool);
  return dispatchToWorker(routing_, Dispatch{.policySet = policySet_,
                                             .unit = c.unit,
                                             .pool = c.pool,
                                             .method = method,
                                             .payload = kj::heapArray<kj::byte>(payload),
                                             .caller = record.caller,
                                             .callId = record.callId,
                                             .chain = chain_.units,
                                             .notAfter = chain_.deadline})
      .attach(kj::mv(inFlight), kj::mv(c.flowSlot));
}

policy::Decision UnitsServer::decideCallerSide(const std::string& callee,
                                               const std::string& method) const {
  const std::vector<std::string>& units = chain_.units;
  if (std::find(units.begin(), units.end(), callee) != units.end()) {
    return _::denial(INVOKE_CYCLE_RULE_ID,
                             "invoke of " + callee + "." + policy::printable(method, 64) +
                                 " would close a cycle: the chain is " + _::joined(units) +
                                 " -> " + callee);
  }
  if (units.size() > MAX_INVOKE_DEPTH) {
    return _::denial(INVOKE_DEPTH_RULE_ID,
                             "invoke of " + policy::printable(callee, 64) + " would nest deeper "
                             "than " + std::to_string(MAX_INVOKE_DEPTH) + " invokes: the chain is " +
                                 _::joined(units));
  }
  return policy::decideInvoke(scope_->unit, callee, method);
}

UnitsServer::Callee UnitsServer::decideCalleeSide(const std::string& callee,
                                                  const std::string& method,
                                                  size_t payloadBytes,
                                                  audit::AuditRecord& record) const {
  record.event = "call";
  record.unit = callee;  // a valid unit name: the caller's side refused any other
  record.caller = "unit:" + scope_->unit.name;
  record.policyRev = policySet_->revision;
  record.args["method"] = method;
  record.args["payload_bytes"] = payloadBytes;
  record.args["caller_unit"] = scope_->unit.name;
  record.args["parent_call_id"] = scope_->callId;

  // The same admission as a host's call: the answer and the record differ only in who asked.
  Callee out;
  CallAdmission admission = admitCall(routing_, policySet_, CallOrigin::unit(scope_->unit.name),
                                      callee, method, payloadBytes);
  if (!admission.admitted) {
    recordDecision(record, _::denial(admission.ruleId, admission.reason));
    std::string text = "unit " + callee + ": " + admission.reason;
    if (admission.kind == rpc::ErrorKind::DENIED) {
      text = "unit " + callee + ": " +
             refusalAnswer(true, _::denial(admission.ruleId, admission.reason))
                 .orDefault(admission.reason);
    }
    out.refused = Outcome::failure(admission.kind, kj::mv(text));
    return out;
  }
  recordDecision(record, admission.decision);
  out.decision = admission.decision;
  out.unit = kj::mv(admission.unit);
  out.pool = kj::mv(admission.pool);
  out.flowSlot = kj::mv(admission.flowSlot);
  return out;
}

}  // namespace airlock::broker

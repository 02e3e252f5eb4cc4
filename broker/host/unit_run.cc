// The host -> program unit path: UnitServer::run. The same admission as a call (method "run"),
// recorded before the program starts; then one run of the unit's program in a fresh sandbox
// (broker/supervisor/program_run.h) under the call's deadline; then one `call` record with the
// exit, and the answer.

#include <kj/debug.h>

#include "audit/bounded_field.h"
#include "broker/calls/call_admission.h"
#include "broker/calls/dispatch.h"
#include "broker/caps/call_scope.h"
#include "broker/host/gateway.h"
#include "broker/supervisor/unit_pool.h"

namespace airlock::broker {

namespace _ {

// What a run's record says of its arguments: each bounded, at most this many.
constexpr size_t MAX_RECORDED_ARGS = 64;
constexpr size_t MAX_RECORDED_ARG_BYTES = 256;

// The method a program unit's `call` rules name.
constexpr char RUN_METHOD[] = "run";

void setRunError(rpc::RunResult::Builder result, rpc::ErrorKind kind, const std::string& message,
                 const std::string& ruleId) {
  auto error = result.initError();
  error.setKind(kind);
  error.setMessage(message);
  error.setRuleId(ruleId);
}

std::string describeRun(const ProgramExit& exit) {
  return exit.status.describe() + ", " + std::to_string(exit.out.size()) + " B stdout, " +
         std::to_string(exit.err.size()) + " B stderr" + (exit.outputCut ? " (cut)" : "");
}

}  // namespace _

kj::Promise<void> UnitServer::run(RunContext context) {
  auto started = std::chrono::steady_clock::now();
  kj::TimePoint receivedAt = routing_.timer.now();
  // Receive: copy the arguments and the input before deciding anything on them.
  std::shared_ptr<const PolicySet> policySet = routing_.policy;
  auto params = context.getParams();
  ProgramRequest request;
  size_t argBytes = 0;
  for (auto arg : params.getArgs()) {
    request.args.emplace_back(arg.begin(), arg.size());
    argBytes += arg.size();
  }
  auto input = params.getStdin();
  request.input.assign(reinterpret_cast<const char*>(input.begin()), input.size());
  uint32_t timeoutMs = params.getTimeoutMs();

  audit::AuditRecord record = newCallRecord(routing_, *policySet, caller_.audit(), unit_,
                                            _::RUN_METHOD, input.size() + argBytes);
  auto recorded = nlohmann::ordered_json::array();
  for (size_t i = 0; i < request.args.size() && i < _::MAX_RECORDED_ARGS; ++i) {
    recorded.push_back(audit::boundedField(request.args[i], _::MAX_RECORDED_ARG_BYTES));
  }
  record.args["args"] = recorded;
  if (timeoutMs > 0) record.args["timeout_ms"] = timeoutMs;

  auto refuse = [&](rpc::ErrorKind kind, const std::string& ruleId, const std::string& reason) {
    bool audited =
        recordHostRefusal(routing_, *connection_, record, kind, ruleId, reason, started);
    _::setRunError(context.getResults().initResult(), audited ? kind : rpc::ErrorKind::INTERNAL,
                   audited ? reason : "the broker cannot write its audit log", ruleId);
    return kj::READY_NOW;
  };

  // Decide: the arguments and the input count against max_payload_bytes together.
  auto admission = admitCall(routing_, policySet,
                             CallOrigin::host(caller_.policy(), *connection_), unit_,
                             _::RUN_METHOD, input.size() + argBytes);
  if (!admission.admitted) return refuse(admission.kind, admission.ruleId, admission.reason);
  const policy::UnitPolicy& unit = *admission.unit;
  if (unit.programPath.empty()) {
    return refuse(rpc::ErrorKind::BAD_REQUEST, std::string(policy::DEFAULT_DENY_RULE_ID),
                  "unit " + unit.name + " runs a worker, not a program: call its methods");
  }
  record.decision = "allow";
  record.rule = admission.decision.ruleId;
  record.reason = admission.decision.reason;
  record.args["program"] = unit.programPath;

  // Record: no program starts for a call the log has not taken.
  if (!recordAdmitted(routing_.audit, record, admission.decision)) {
    _::setRunError(context.getResults().initResult(), rpc::ErrorKind::INTERNAL,
                   "the broker cannot write its audit log", "");
    return kj::READY_NOW;
  }

  // Act: one run under the call's deadline (the unit's call_timeout_ms, or the caller's sooner).
  kj::TimePoint deadline = receivedAt + unit.callTimeout.count() * kj::MILLISECONDS;
  if (timeoutMs > 0) deadline = kj::min(deadline, receivedAt + timeoutMs * kj::MILLISECONDS);
  request.caller = record.caller;
  request.callId = record.callId;
  request.outputCap = unit.maxPayloadBytes;
  auto inFlight = kj::heap<InFlight>(routing_, admission.pool);
  auto onConnection =
      kj::heap<ConnectionHold>(kj::addRef(*connection_), &HostConnectionState::callsInFlight);
  auto timedOut = kj::heap<bool>(false);
  kj::Promise<ProgramExit> ran = nullptr;
  // Whether the sandbox could not be started (thrown) or its child's setup failed (reported).
  auto setupFailed = [this, started](RunContext& context, audit::AuditRecord& record,
                                     const std::string& why) {
    record.result = errorKindName(rpc::ErrorKind::UNIT_UNAVAILABLE);
    record.reason += "; the sandbox could not be set up: " + why;
    record.durationMicros = microsSince(started);
    bool audited = routing_.audit.append(record);
    _::setRunError(context.getResults().initResult(),
                   audited ? rpc::ErrorKind::UNIT_UNAVAILABLE : rpc::ErrorKind::INTERNAL,
                   audited ? "the program's sandbox could not be set up"
                           : "the broker cannot write its audit log", "");
  };
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    ran = admission.pool->runProgram(kj::mv(request), deadline, *timedOut);
  })) {
    setupFailed(context, record, exception->getDescription().cStr());
    return kj::READY_NOW;
  }

  // Record the exit, then reply.
  bool& late = *timedOut;
  uint64_t memoryMaxMiB = unit.resources.get(policy::ResourceKey::MEMORY_MAX_MIB);
  return ran.then([this, context, record = kj::mv(record), started, &late, setupFailed,
                   memoryMaxMiB](ProgramExit exit) mutable {
    if (!exit.setupFailed.empty()) return setupFailed(context, record, exit.setupFailed);
    record.workerPid = exit.pid;
    record.result = late ? std::string(errorKindName(rpc::ErrorKind::TIMED_OUT)) + ": " +
                               _::describeRun(exit)
                         : _::describeRun(exit);
    record.args["brokered_syscalls"] = exit.brokeredSyscalls;
    record.cpuMicros = exit.cpuMicros;
    // The kernel's OOM killer ended the run at the unit's [resources] limit (first, as for a
    // worker: a deadline's SIGKILL may have raced it): the caller is told so, as a worker's
    // caller is, not handed a SIGKILL it could take for airlockd's.
    std::string outOfMemory;
    if (exit.status.outOfMemory) {
      outOfMemory = "out of memory: program pid " + std::to_string(exit.pid) + " " +
                    exit.status.describe() + " at the unit's [resources] memory_max_mib";
      record.result = std::string(errorKindName(rpc::ErrorKind::UNIT_CRASHED)) + ": " +
                      outOfMemory;
      record.args["cause"] = "out-of-memory";
      record.args["memory_peak_bytes"] = exit.status.memoryPeakBytes;
      record.args["memory_max_mib"] = memoryMaxMiB;
    }
    if (!exit.status.answeredSyscalls.empty()) {
      record.args["answered_syscalls"] = exit.status.answeredSyscalls;
    }
    if (!exit.status.learnedSyscalls.empty()) {
      record.args["learned_syscalls"] = exit.status.learnedSyscalls;
    }
    record.durationMicros = microsSince(started);
    auto result = context.getResults().initResult();
    if (!routing_.audit.append(record)) {
      return _::setRunError(result, rpc::ErrorKind::INTERNAL,
                            "the broker cannot write its audit log", "");
    }
    if (!outOfMemory.empty()) {
      return _::setRunError(result, rpc::ErrorKind::UNIT_CRASHED, outOfMemory, "");
    }
    if (late) {
      return _::setRunError(result, rpc::ErrorKind::TIMED_OUT,
                            "the program did not exit within the call's deadline; killed", "");
    }
    auto exited = result.initExited();
    exited.setStatus(exit.status.exited ? exit.status.code : 0);
    exited.setSignal(exit.status.exited ? 0 : exit.status.signal);
    exited.setStdout(kj::arrayPtr(reinterpret_cast<const kj::byte*>(exit.out.data()), exit.out.size()));
    exited.setStderr(kj::arrayPtr(reinterpret_cast<const kj::byte*>(exit.err.data()), exit.err.size()));
    exited.setOutputCut(exit.outputCut);
    exited.setRefusedSyscall(exit.status.refusedSyscall);
  }).attach(kj::mv(inFlight), kj::mv(onConnection), kj::mv(admission.flowSlot), kj::mv(timedOut));
}

}  // namespace airlock::broker

#include "broker/host/admin.h"

#include <kj/debug.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "broker/reload/reloader.h"

namespace airlock::broker {

void authorizeAdmin(Routing& routing, const AuthenticatedCaller& caller, const char* operation) {
  const PolicySet& policy = *routing.policy;
  bool known = policy.clients.find(caller.name) != nullptr;
  bool admin = known && policy.broker.isAdmin(caller.name);
  audit::AuditRecord record;
  record.event = "admin";
  record.caller = caller.audit();
  record.policyRev = routing.policy->revision;
  record.args["operation"] = operation;
  record.decision = admin ? "allow" : "deny";
  record.rule = admin ? std::string(ADMINS_RULE_ID) : "default-deny";
  record.reason = !known ? "client " + caller.name + "'s key was removed by a policy reload"
                  : admin ? "client " + caller.name + " is listed in [broker] admins at " +
                                policy.broker.where.describe()
                          : "client " + caller.name + " is not listed in [broker] admins";
  bool audited = routing.audit.append(record);
  if (!admin) {
    spdlog::warn("refused admin {} for {}: {}", operation, caller.audit(), record.reason);
    kj::throwFatalException(KJ_EXCEPTION(FAILED, "admin operation refused", record.reason));
  }
  if (!audited) {
    kj::throwFatalException(
        KJ_EXCEPTION(FAILED, "admin operation refused: the broker cannot write its audit log"));
  }
}

kj::Promise<void> AdminServer::reload(ReloadContext context) {
  authorizeAdmin(routing_, caller_, "reload");
  KJ_REQUIRE(routing_.reloader != nullptr, "this airlockd cannot reload");
  auto outcome = routing_.reloader->reload(caller_.audit());
  auto results = context.getResults();
  results.setApplied(outcome.applied);
  results.setRevision(outcome.revision);
  results.setSummary(outcome.summary());
  auto errors = results.initErrors(static_cast<unsigned>(outcome.errors.size()));
  for (unsigned i = 0; i < errors.size(); ++i) errors.set(i, outcome.errors[i]);
  return kj::READY_NOW;
}

kj::Promise<void> AdminServer::status(StatusContext context) {
  authorizeAdmin(routing_, caller_, "status");
  context.getResults().setJson(statusJson(routing_));
  return kj::READY_NOW;
}

kj::Promise<void> AdminServer::drain(DrainContext context) {
  authorizeAdmin(routing_, caller_, "drain");
  KJ_REQUIRE(routing_.requestStop != nullptr, "airlockd is already stopping");
  routing_.requestStop("drain asked by " + caller_.audit());
  context.getResults().setCallsInFlight(routing_.callsInFlight);
  return kj::READY_NOW;
}

std::string statusJson(const Routing& routing) {
  const PolicySet& policy = *routing.policy;
  nlohmann::ordered_json status;
  status["revision"] = *policy.revision;
  status["draining"] = routing.draining;
  status["calls_in_flight"] = routing.callsInFlight;
  status["clients"] = policy.clients.all().size();
  auto& units = status["units"] = nlohmann::ordered_json::array();
  for (auto& unit : policy.units) {
    nlohmann::ordered_json entry;
    entry["name"] = unit.name;
    entry["worker"] = unit.workerPath;
    entry["instances"] = unit.instances;
    entry["mode"] = policy::unitModeName(unit.mode);
    if (unit.learning()) entry["justification"] = unit.learnJustification;
    auto pool = routing.pools.find(unit.name);
    if (pool != routing.pools.end()) {
      auto poolStatus = pool->second->status();
      entry["state"] = poolStatus.parked ? "parked" : "running";
      if (poolStatus.parked) {
        entry["parked_rule"] = poolStatus.parked->ruleId;
        entry["parked_reason"] = poolStatus.parked->reason;
        entry["parked_since"] = poolStatus.parked->since;
      }
      entry["pids"] = poolStatus.pids;
      entry["restarts"] = poolStatus.restarts;
      entry["backoff_ms"] = poolStatus.backoffMs;
      entry["calls_in_flight"] = pool->second->callsInFlight;
      entry["last_failure"] = pool->second->lastFailure();
      if (poolStatus.usage) {
        const resources::GroupUsage& used = *poolStatus.usage;
        auto& shown = entry["resources"];
        shown["memory_bytes"] = used.memoryBytes;
        shown["memory_peak_bytes"] = used.memoryPeakBytes;
        shown["cpu_us"] = used.cpuMicros;
        shown["throttled_periods"] = used.throttledPeriods;
        shown["throttled_us"] = used.throttledMicros;
        shown["oom_kills"] = used.oomKills;
        shown["background"] = used.background;
      }
    }
    for (const policy::ResourceKeyRow& row : policy::resourceKeyRows()) {
      if (unit.resources.isSet(row.key)) entry["limits"][row.name] = unit.resources.get(row.key);
    }
    entry["restart"] = policy::restartPolicyName(unit.restart.policy);
    entry["crash_loop_limit"] = unit.restart.crashLoopLimit;
    entry["call_timeout_ms"] = unit.callTimeout.count();
    entry["max_calls_in_flight"] = unit.flow.maxCallsInFlight;
    entry["max_calls_per_second"] = unit.flow.maxCallsPerSecond;
    entry["calls_burst"] = unit.flow.burst();
    entry["max_requests_per_second"] = unit.requests.maxRequestsPerSecond;
    entry["requests_burst"] = unit.requests.requestsBurst;
    auto pacer = routing.pacers.find(unit.name);
    entry["requests_delayed"] = pacer != routing.pacers.end() ? pacer->second->delayed() : 0;
    entry["max_payload_bytes"] = unit.maxPayloadBytes;
    entry["rules"] = unit.rules.size();
    entry["file"] = unit.file;
    units.push_back(kj::mv(entry));
  }
  return status.dump();
}

}  // namespace airlock::broker

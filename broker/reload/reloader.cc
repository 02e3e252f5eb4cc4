#include "broker/reload/reloader.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace airlock::broker {

namespace _ {
namespace {

// A broken policy directory can have many errors; the audit record keeps the first ones (all of
// them go to airlockd's log and, for an admin request, back to the admin).
constexpr size_t MAX_AUDITED_ERRORS = 20;

std::vector<std::string> namesOnlyIn(const ClientKeys& a, const ClientKeys& b) {
  std::vector<std::string> names;
  for (auto& [name, key] : a.all()) {
    if (b.find(name) == nullptr) names.push_back(name);
  }
  return names;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (auto& name : names) out += (out.empty() ? "" : ",") + name;
  return out;
}

}  // namespace
}  // namespace _

std::string ReloadOutcome::summary() const {
  if (!applied) {
    return "reload refused (" + std::to_string(errors.size()) + " error(s)); revision " +
           revision + " stays in force" + (errors.empty() ? "" : ": " + errors.front());
  }
  if (previousRevision == revision && clientsAdded.empty() && clientsRemoved.empty()) {
    return "reloaded: nothing changed (revision " + revision + ")";
  }
  std::string out = "reloaded: revision " + previousRevision + " -> " + revision;
  auto list = [&](const char* what, const std::vector<std::string>& names) {
    if (!names.empty()) out += std::string("; ") + what + " " + _::joined(names);
  };
  list("units added", changes.added);
  list("removed", changes.removed);
  list("restarted", changes.restarted);
  list("rules changed", changes.changed);
  list("clients added", clientsAdded);
  list("clients revoked", clientsRemoved);
  return out;
}

void Reloader::startPools() {
  for (auto& unit : routing_.policy->units) startPool(routing_.policy, unit);
}

void Reloader::startPool(const std::shared_ptr<const PolicySet>& set,
                         const policy::UnitPolicy& unit) {
  auto unitLog = routing_.logs.find(unit.name);
  if (unitLog == routing_.logs.end()) {
    unitLog = routing_.logs.emplace(unit.name, kj::heap<UnitLog>(unit.name, io_.provider->getTimer(),
                                                                 routing_.audit)).first;
  }
  auto pool = std::make_shared<UnitPool>(unitOf(set, unit), set->roots, io_, routing_.audit,
                                         audit::systemWallClock(), *unitLog->second,
                                         routing_.resourceGroups);
  pool->start();
  routing_.pools[unit.name] = kj::mv(pool);  // a replaced pool lives on in its calls in flight
}

ReloadOutcome Reloader::reload(const std::string& requestedBy) {
  std::shared_ptr<const PolicySet> current = routing_.policy;
  ReloadOutcome outcome;
  outcome.previousRevision = *current->revision;
  outcome.revision = *current->revision;

  audit::AuditRecord record;
  record.event = "policy.reload";
  record.caller = requestedBy;
  record.args["policies"] = sources_.policiesDir;
  record.args["from"] = *current->revision;
  record.policyRev = current->revision;

  auto refuse = [&](std::string reason) {
    record.decision = "deny";
    record.rule = "policy.check";
    record.reason = kj::mv(reason);
    record.result = "refused: revision " + outcome.revision + " stays in force";
    if (!routing_.audit.append(record)) {
      outcome.errors.push_back("the audit log cannot be written");
    }
    spdlog::error("policy reload asked by {}: {}", requestedBy, outcome.summary());
    for (auto& error : outcome.errors) spdlog::error("  {}", error);
    return outcome;
  };

  if (routing_.draining) {
    outcome.errors.push_back("airlockd is stopping");
    return refuse("airlockd is stopping");
  }
  auto load = loadPolicySet(sources_);
  for (auto& warning : load.warnings) spdlog::warn("policy: {}", warning);
  if (load.set == nullptr) {
    outcome.errors = kj::mv(load.errors);
    auto& audited = record.args["errors"] = nlohmann::ordered_json::array();
    for (size_t i = 0; i < outcome.errors.size() && i < _::MAX_AUDITED_ERRORS; ++i) {
      audited.push_back(outcome.errors[i]);
    }
    return refuse(std::to_string(outcome.errors.size()) + " error(s) in the new policy set");
  }

  std::shared_ptr<const PolicySet> next = kj::mv(load.set);
  outcome.changes = policy::compareUnits(current->units, next->units);
  outcome.clientsAdded = _::namesOnlyIn(next->clients, current->clients);
  outcome.clientsRemoved = _::namesOnlyIn(current->clients, next->clients);
  outcome.revision = *next->revision;

  record.decision = "allow";
  record.rule = "policy.check";
  record.reason = "the new policy set checks";
  record.result = "applied";
  record.policyRev = next->revision;
  record.args["to"] = *next->revision;
  record.args["units_added"] = outcome.changes.added;
  record.args["units_removed"] = outcome.changes.removed;
  record.args["units_restarted"] = outcome.changes.restarted;
  record.args["units_changed"] = outcome.changes.changed;
  record.args["clients_added"] = outcome.clientsAdded;
  record.args["clients_revoked"] = outcome.clientsRemoved;
  // Recorded before it takes effect: a reload nobody can see in the log does not happen.
  if (!routing_.audit.append(record)) {
    outcome.revision = outcome.previousRevision;
    outcome.errors.push_back("the audit log cannot be written");
    spdlog::error("policy reload asked by {}: {}", requestedBy, outcome.summary());
    return outcome;
  }
  apply(kj::mv(next), outcome.changes);
  outcome.applied = true;
  spdlog::info("policy reload asked by {}: {}", requestedBy, outcome.summary());
  return outcome;
}

void announceLearningUnits(const PolicySet& set, audit::AuditLog& audit) {
  for (auto& unit : set.units) {
    if (!unit.learning()) continue;
    spdlog::warn("unit {} is LEARNING (mode = \"learn\" at {}): requests no rule allows are "
                 "performed within its learn_paths/learn_hosts and recorded as \"learn\"; never "
                 "in production (airlockd --refuse-learn)", unit.name, unit.modeWhere.describe());
  }
  audit.setLearningUnits(learningUnits(set));
}

void Reloader::apply(std::shared_ptr<const PolicySet> next,
                     const policy::UnitChanges& changes) {
  routing_.policy = next;
  announceLearningUnits(*next, routing_.audit);
  for (auto& name : changes.removed) {
    routing_.pools[name]->retireAll("unit removed by a policy reload");
    routing_.pools.erase(name);
  }
  for (auto& unit : next->units) {
    auto& keep = changes.unchanged;
    auto& rulesOnly = changes.changed;
    bool keepWorkers = std::find(keep.begin(), keep.end(), unit.name) != keep.end() ||
                       std::find(rulesOnly.begin(), rulesOnly.end(), unit.name) != rulesOnly.end();
    auto existing = routing_.pools.find(unit.name);
    if (keepWorkers && existing != routing_.pools.end()) {
      existing->second->adopt(unitOf(next, unit));
    } else {
      if (existing != routing_.pools.end()) {
        existing->second->retireAll("unit's workers changed by a policy reload");
      }
      startPool(next, unit);
    }
  }
}

}  // namespace airlock::broker

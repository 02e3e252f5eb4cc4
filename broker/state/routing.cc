#include "broker/state/routing.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace airlock::broker {

std::shared_ptr<UnitPool> Routing::pool(const std::string& unit) {
  auto it = pools.find(unit);
  if (it == pools.end()) return nullptr;
  return it->second;
}

void TaskErrorLog::taskFailed(kj::Exception&& exception) {
  spdlog::error("background task failed: {}", exception.getDescription().cStr());
}

std::string Routing::newCallId() { return "c-" + std::to_string(nextCallId++); }

Admission Routing::admits(const policy::Caller& caller) const {
  Admission admission;
  for (auto& unit : policy->units) {
    for (auto& rule : unit.rules) {
      if (rule.operation != policy::Operation::CALL || rule.effect != policy::Effect::ALLOW) {
        continue;
      }
      auto& names = rule.call().callerNames;
      if (std::find(names.begin(), names.end(), caller.name) == names.end()) continue;
      auto& uids = rule.call().callerUids;
      if (!uids.empty() && std::find(uids.begin(), uids.end(), caller.uid) == uids.end()) {
        admission.kind = Admission::WRONG_UID;
        continue;
      }
      return Admission{Admission::ADMITTED, rule.id};
    }
  }
  if (policy->broker.isAdmin(caller.name)) {
    return Admission{Admission::ADMITTED, std::string(ADMINS_RULE_ID)};
  }
  return admission;
}

}  // namespace airlock::broker

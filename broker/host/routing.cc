#include "broker/host/routing.h"

#include <algorithm>

namespace airlock::broker {

kj::Maybe<UnitPool&> Routing::pool(const std::string& unit) {
  auto it = pools.find(unit);
  if (it == pools.end()) return nullptr;
  return *it->second;
}

std::string Routing::newCallId() { return "c-" + std::to_string(nextCallId++); }

bool Routing::admitsCaller(uid_t uid) const {
  for (auto& unit : units) {
    for (auto& rule : unit.rules) {
      if (rule.operation != policy::Operation::CALL || rule.effect != policy::Effect::ALLOW) {
        continue;
      }
      auto& uids = rule.callerUids;
      if (std::find(uids.begin(), uids.end(), uid) != uids.end()) return true;
    }
  }
  return false;
}

}  // namespace airlock::broker

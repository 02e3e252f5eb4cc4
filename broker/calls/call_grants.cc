#include "broker/calls/call_grants.h"

#include "broker/caps/fs_request.h"
#include "broker/caps/wire_modes.h"
#include "broker/policy/decide/decide_grant.h"

namespace airlock::broker {

RequestedGrants readGrants(capnp::List<rpc::Grant>::Reader wire) {
  RequestedGrants out;
  if (wire.size() > policy::MAX_GRANTS_PER_CALL) {
    out.refusal = "the call carries " + std::to_string(wire.size()) + " grants, more than " +
                  std::to_string(policy::MAX_GRANTS_PER_CALL) + " (MAX_GRANTS_PER_CALL)";
  }
  for (auto grant : wire) {
    if (out.grants.size() == policy::MAX_GRANTS_PER_CALL) break;
    out.grants.push_back(
        policy::CallGrant{requestPath(grant.getPath()), openModesFrom(grant.getMode())});
  }
  return out;
}

void recordGrants(audit::AuditRecord& record, policy::CallGrants grants) {
  if (grants.empty()) return;
  auto& list = record.args["grants"] = nlohmann::ordered_json::array();
  for (const policy::CallGrant& grant : grants) {
    list.push_back({{"path", grant.path}, {"mode", grant.modes.describe()}});
  }
}

policy::Decision decideGrants(const policy::UnitPolicy& unit, const policy::Caller& caller,
                              std::vector<policy::CallGrant>& grants) {
  for (size_t i = 0; i < grants.size(); ++i) {
    policy::CallGrant& grant = grants[i];
    policy::Decision decision = policy::decideGrant(unit, caller, grant.path, grant.modes);
    if (!decision.allowed()) {
      decision.reason = "grant #" + std::to_string(i) + " " + grant.describe() + ": " +
                        decision.reason;
      return decision;
    }
    grant.rule = decision.rule;
  }
  return policy::Decision{policy::Verdict::ALLOW, "", "every grant allowed", nullptr};
}

}  // namespace airlock::broker

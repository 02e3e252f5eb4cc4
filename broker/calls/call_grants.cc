#include "broker/calls/call_grants.h"

#include <capnp/capability.h>

#include "broker/caps/fs_request.h"
#include "broker/caps/granted_descriptor.h"
#include "broker/caps/wire_modes.h"
#include "broker/policy/decide/decide_grant.h"
#include "broker/policy/model/printable.h"

namespace airlock::broker {

// A granted path quoted in a refusal: escaped and cut, as decide.cc quotes request text.
constexpr size_t MAX_QUOTED_GRANT_BYTES = 256;

RequestedGrants readGrants(capnp::List<rpc::Grant>::Reader wire) {
  RequestedGrants out;
  if (wire.size() > policy::MAX_GRANTS_PER_CALL) {
    out.refusal = "the call carries " + std::to_string(wire.size()) + " grants, more than " +
                  std::to_string(policy::MAX_GRANTS_PER_CALL) + " (MAX_GRANTS_PER_CALL)";
  }
  for (auto grant : wire) {
    if (out.grants.size() == policy::MAX_GRANTS_PER_CALL) break;
    policy::CallGrant read{requestPath(grant.getPath()), openModesFrom(grant.getMode())};
    if (grant.hasFile() && out.refusal.empty()) {
      std::string why;
      // The descriptor arrived with the call's message, or not at all: a promise or a
      // capability from elsewhere carries none.
      KJ_IF_MAYBE(fd, capnp::ClientHook::from(grant.getFile())->getFd()) {
        read.descriptor = receiveGrantedDescriptor(*fd, read.modes, why);
      } else {
        why = "no descriptor arrived with it (airlockd takes descriptors only while its policy "
              "has a grant rule with `descriptors`)";
      }
      if (!read.descriptor) {
        out.refusal = "grant #" + std::to_string(out.grants.size()) + " " +
                      policy::printable(read.path, MAX_QUOTED_GRANT_BYTES) + ": " + why;
        out.ruleId = GRANT_DESCRIPTOR_RULE_ID;
      }
    }
    out.grants.push_back(kj::mv(read));
  }
  return out;
}

void recordGrants(audit::AuditRecord& record, policy::CallGrants grants) {
  if (grants.empty()) return;
  auto& list = record.args["grants"] = nlohmann::ordered_json::array();
  for (const policy::CallGrant& grant : grants) {
    auto& entry = list.emplace_back(
        nlohmann::ordered_json{{"path", grant.path}, {"mode", grant.modes.describe()}});
    if (grant.descriptor) {
      const policy::DescriptorGrant& d = *grant.descriptor;
      entry["descriptor"] = {{"kind", policy::descriptorKindName(d.kind)},
                             {"access", d.access.describe()},
                             {"append_only", d.appendOnly},
                             {"device", d.device},
                             {"inode", d.inode}};
    }
  }
}

policy::Decision decideGrants(const policy::UnitPolicy& unit, const policy::Caller& caller,
                              std::vector<policy::CallGrant>& grants) {
  for (size_t i = 0; i < grants.size(); ++i) {
    policy::CallGrant& grant = grants[i];
    std::optional<policy::DescriptorKind> kind;
    if (grant.descriptor) kind = grant.descriptor->kind;
    policy::Decision decision = policy::decideGrant(unit, caller, grant.path, grant.modes, kind);
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

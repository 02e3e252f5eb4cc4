#include "broker/state/policy_set.h"

#include "broker/policy/model/revision.h"

namespace airlock::broker {

const policy::UnitPolicy* PolicySet::find(std::string_view unit) const {
  auto found = byName_.find(unit);
  return found == byName_.end() ? nullptr : &units[found->second];
}

void PolicySet::indexUnits() {
  byName_.clear();
  takesDescriptorGrants_ = false;
  for (size_t i = 0; i < units.size(); ++i) {
    byName_.emplace(units[i].name, i);
    for (const policy::Rule& rule : units[i].rules) {
      auto* grant = std::get_if<policy::GrantKeys>(&rule.keys);
      if (grant != nullptr && !grant->descriptors.empty()) takesDescriptorGrants_ = true;
    }
  }
}

PolicySetLoad loadPolicySet(const PolicySources& sources) {
  PolicySetLoad result;
  auto loaded = policy::loadPolicyDir(sources.policiesDir, sources.load);
  for (auto& error : loaded.errors) result.errors.push_back(error.describe());
  for (auto& warning : loaded.warnings) result.warnings.push_back(warning.describe());
  std::vector<std::string> keyErrors;
  auto clients = ClientKeys::load(sources.clientKeysDir, keyErrors);
  for (auto& error : keyErrors) result.errors.push_back("--client-keys " + error);
  if (sources.refuseLearn) {
    for (auto& unit : loaded.units) {
      if (!unit.learning()) continue;
      result.errors.push_back(unit.modeWhere.describe() + ": unit " + unit.name +
                              " has mode = \"learn\": airlockd --refuse-learn refuses a policy "
                              "set with a learning unit (enforce the policy `airlock policy "
                              "suggest` drafted instead)");
    }
  }
  if (!result.errors.empty()) return result;

  auto set = std::make_shared<PolicySet>();
  set->units = kj::mv(loaded.units);
  set->indexUnits();
  set->broker = kj::mv(loaded.broker);
  set->revision = policy::stampRevision(set->units, set->broker.admins);
  set->roots = FsRoots::open(set->units);
  set->clients = kj::mv(clients);
  for (auto& [root, why] : set->roots.missing()) result.warnings.push_back(why);
  for (auto& admin : set->broker.admins) {
    if (set->clients.find(admin) == nullptr) {
      result.warnings.push_back(set->broker.where.describe() + ": admin \"" + admin +
                                "\" has no " + admin + ".pub in --client-keys " +
                                sources.clientKeysDir + ": nobody can act as it");
    }
  }
  if (set->clients.all().empty()) {
    result.warnings.push_back("--client-keys " + sources.clientKeysDir +
                              " holds no NAME.pub: no host can authenticate (create one with "
                              "`airlock keygen --client NAME --out " + sources.clientKeysDir +
                              "`)");
  }
  result.set = kj::mv(set);
  return result;
}

std::vector<std::string> learningUnits(const PolicySet& set) {
  std::vector<std::string> names;
  for (auto& unit : set.units) {
    if (unit.learning()) names.push_back(unit.name);
  }
  return names;
}

std::shared_ptr<const policy::UnitPolicy> unitOf(const std::shared_ptr<const PolicySet>& set,
                                                 const policy::UnitPolicy& unit) {
  return std::shared_ptr<const policy::UnitPolicy>(set, &unit);
}

}  // namespace airlock::broker

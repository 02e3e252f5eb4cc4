#include "broker/policy/model/call_grant.h"

namespace airlock::policy {

std::string CallGrant::idAt(size_t index) const {
  return (rule != nullptr ? rule->id : std::string("grant")) + "#" + std::to_string(index);
}

std::string CallGrant::describe() const {
  std::string handed =
      descriptor ? std::string(", a ") + descriptorKindName(descriptor->kind) + " descriptor" : "";
  return path + " (" + modes.describe() + handed + ")";
}

int coveringGrant(CallGrants grants, std::string_view path, OpenModes modes) {
  for (size_t i = 0; i < grants.size(); ++i) {
    if (grants[i].path == path && modes.subsetOf(grants[i].modes)) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace airlock::policy

#pragma once
// What one call was handed by its caller: paths, each with the open modes the worker may use on
// it during that call and nothing longer. A grant is admitted against the unit's `grant` rules
// before any worker sees the call (decide_grant.h); then only fs.open rules written
// `granted_only = true` reach a granted path, and only while its call lasts (decide.h). Pure
// data; any thread.

#include <cstddef>
#include <span>
#include <string>

#include "broker/policy/model/policy.h"

namespace airlock::policy {

// A call carries at most this many grants: each is decided per call and matched on every
// fs.open of the call, and the call's record lists them all.
inline constexpr size_t MAX_GRANTS_PER_CALL = 32;

struct CallGrant {
  std::string path;  // an absolute request path (validateRequestPath): one file or directory
  OpenModes modes;   // never empty
  const Rule* rule = nullptr;
  // The `grant` rule that admitted it, borrowed from the policy the call is decided by; null
  // for a grant only explained (`policy explain ... grant=PATH:MODES`).

  // The id a request allowed through this grant names as its deciding rule: "<rule id>#<index>"
  // ("grant#<index>" without a rule), `index` being the grant's place in its call.
  std::string idAt(size_t index) const;
  std::string describe() const;  // "/srv/docs/a.xml (read)"
};

using CallGrants = std::span<const CallGrant>;

// The index of the first grant that covers `path` with every mode of `modes`, or -1. A grant
// covers its own path only: granting a directory grants its entries nothing.
int coveringGrant(CallGrants grants, std::string_view path, OpenModes modes);

}  // namespace airlock::policy

#pragma once
// Loader internal: the learn-mode keys of [unit] (`mode`, `learn_paths`, `learn_hosts` and the
// `justification` learning needs), turned into the unit's learnGrants (policy.h UnitMode).

#include <toml++/toml.h>

#include "broker/policy/load/policy_loader.h"
#include "broker/policy/load/toml_reader.h"

namespace airlock::policy::_ {

// The [unit] keys this reader owns, for readUnitSection's list of known keys.
inline constexpr std::string_view LEARN_KEYS[] = {"mode", "learn_paths", "learn_hosts",
                                                  "justification"};

// Fills unit.mode, modeWhere, learnJustification and learnGrants from the [unit] `table`.
// mode = "learn" is a dangerous allowance: it needs a non-empty justification and at least one of
// learn_paths / learn_hosts; learn_paths and learn_hosts are errors without it. A learn_paths
// pattern is expanded (${name}) and parsed as a rule's `path`; "/**" (or any pattern rooted at
// "/") is refused, since it bounds nothing. Beneath a system directory (dangerous.h) learning
// may only read: only fs.open "read", fs.stat and fs.list grants are built there.
void readLearnKeys(const toml::table& table, const LoadOptions& options, Diagnostics& diag,
                   UnitPolicy& unit);

}  // namespace airlock::policy::_

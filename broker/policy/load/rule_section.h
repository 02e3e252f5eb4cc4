#pragma once
// Loader internal: the [[rule]] array of a policy file.

#include <toml++/toml.h>

#include "broker/policy/load/policy_loader.h"
#include "broker/policy/load/toml_reader.h"

namespace airlock::policy::_ {

// Appends to unit.rules every rule of the `rule` array `node` (null when the file has none:
// allowed, the unit then denies everything). A rule with any problem is reported in `diag` and
// not appended.
void readRules(const toml::node* node, const LoadOptions& options, Diagnostics& diag,
               UnitPolicy& unit);

}  // namespace airlock::policy::_

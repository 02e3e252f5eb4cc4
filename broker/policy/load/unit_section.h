#pragma once
// Loader internal: the [unit] and [sandbox] tables of a policy file.

#include <toml++/toml.h>

#include "broker/policy/load/policy_loader.h"
#include "broker/policy/load/toml_reader.h"

namespace airlock::policy::_ {

// Fills unit.name, workerPath, instances, callTimeout, maxPayloadBytes, restart, workerReuse,
// flow and where
// from the [unit] table `node` (null when the file has none, which is an error). Checks the
// worker as options.workerCheck says. Records every problem in `diag`.
void readUnitSection(const toml::node* node, const LoadOptions& options, Diagnostics& diag,
                     UnitPolicy& unit);

// Fills unit.readOnlyPaths, landlock and sandboxJustification from the optional [sandbox] table
// `node`. Each path gets ${...} expansion, must pass validateRequestPath and must exist;
// landlock = "best-effort" needs a justification.
void readSandboxSection(const toml::node* node, const LoadOptions& options, Diagnostics& diag,
                        UnitPolicy& unit);

// Fills unit.limits from the optional [limits] table `node`, each key within its bounds.
void readLimitsSection(const toml::node* node, Diagnostics& diag, UnitPolicy& unit);
void readResourcesSection(const toml::node* node, Diagnostics& diag, UnitPolicy& unit);
// [resources]: each key of the table in resources.h within its bounds; memory_high_mib not
// above memory_max_mib.

}  // namespace airlock::policy::_

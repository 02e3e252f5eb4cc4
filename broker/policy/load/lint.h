#pragma once
// Warnings about a policy that loads but does not do what its author likely meant: rules that can
// never decide anything, and units no host may call. Run by the loader on every unit that loaded
// without errors; `airlock policy check` prints them, airlockd logs them.

#include <vector>

#include "broker/policy/load/policy_loader.h"
#include "broker/policy/model/policy.h"

namespace airlock::policy {

void lintUnit(const UnitPolicy& unit, std::vector<Diagnostic>& warnings);
// - an fs.* rule identical (operation, effect, pattern, modes) to an earlier one: it never
//   decides;
// - an fs.* allow whose pattern also appears on a deny of its operation covering all its modes
//   (fs.open; the others have none): at equal specificity deny wins, so the allow never decides;
// - a net.connect rule with the same effect, hosts and ports (or unix_path) as an earlier one;
// - a unit with no allow `call` rule: no host can call it;
// - a [sandbox] seccomp_profile that grants nothing beyond the default syscall groups.
// (A [sandbox] syscalls group every worker already has is warned about as it is read.)

void lintUnitSet(const std::vector<UnitPolicy>& units, std::vector<Diagnostic>& warnings);
// Across the units of one policy directory (loadPolicyDir, when every file loaded):
// - an invoke rule naming a unit no file defines: it can never be used (a typo, or a unit removed);
// - a call rule's caller_unit naming a unit no file defines: that caller can never call.

}  // namespace airlock::policy

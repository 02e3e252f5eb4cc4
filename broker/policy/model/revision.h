#pragma once
// The revision of a loaded policy set: a digest of the canonical form of its units, so audit
// records can say which policy decided them and a reload can say what it replaced.

#include <memory>
#include <string>
#include <vector>

#include "broker/policy/model/policy.h"

namespace airlock::policy {

// Hex characters in a revision: BLAKE2b-128 of the canonical form.
inline constexpr size_t POLICY_REVISION_HEX_CHARS = 32;

std::string policyRevision(const std::vector<UnitPolicy>& units,
                           const std::vector<std::string>& admins = {});
// BLAKE2b (libsodium) of every unit's meaning, in unit-name order: its settings and its rules in
// file order (ids, effects, operations, patterns, modes, callers, uids, methods), then the
// [broker] admins (sorted) if there are any. Where things are
// written is not part of it: comments, whitespace, key order, file names and line numbers do not
// change the revision; any change to what the policy allows or how units run does. The worker
// counts as written in the file (not resolved against --workers), and paths after ${name}
// expansion. Pure; call
// it at load, never per call.

std::string canonicalForm(const UnitPolicy& unit);
std::string canonicalForm(const Rule& rule);
// The bytes policyRevision digests for one unit / one rule: equal exactly when they mean the
// same (how a reload tells a changed unit from an unchanged one).

std::shared_ptr<const std::string> stampRevision(std::vector<UnitPolicy>& units,
                                                 const std::vector<std::string>& admins = {});
// Computes policyRevision(units) once, stores the shared string in every unit's `revision` and
// returns it; decision records then share it instead of recomputing or copying it.

}  // namespace airlock::policy

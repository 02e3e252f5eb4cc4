#pragma once
// The policy engine alone: one fs.open decision against a unit with many rules.

#include <string>

#include "bench/samples.h"

namespace airlock::bench {

// Builds a unit with `rules` fs.open rules (distinct directory grants, some denies) and times
// decisions for a path only the last rule matches, in batches; each sample is one decision.
Samples measureDecision(int rules, int samples);

// Writes `units` policy files of `rulesPerUnit` mixed rules (fs.open patterns, call rules, secret
// names) into a fresh directory under `dir`, then times loadPolicyDir on it, as airlockd does at
// start-up and on every reload. Returns seconds for the whole directory (best of `repeats`).
double measurePolicyLoadSeconds(const std::string& dir, int units, int rulesPerUnit, int repeats);

}  // namespace airlock::bench

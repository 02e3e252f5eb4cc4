#pragma once
// The policy engine alone: one fs.open decision against a unit with many rules.

#include "bench/samples.h"

namespace airlock::bench {

// Builds a unit with `rules` fs.open rules (distinct directory grants, some denies) and times
// decisions for a path only the last rule matches, in batches; each sample is one decision.
Samples measureDecision(int rules, int samples);

}  // namespace airlock::bench

#pragma once
// What [resources] buys and costs (issue: resource allocation per unit). A quiet unit's call
// latency with nothing else running, then while a neighbour unit of the same airlockd burns every
// CPU — with no limit, under cpu_max_percent, under a low cpu_weight — and the start-up cost of a
// worker placed in a cgroup leaf of its own against the same start without one.

#include <kj/async-io.h>

#include <string>
#include <vector>

#include "bench/samples.h"

namespace airlock::bench {

// `bin`: where airlockd and airlock-bench-worker are; `n`: quiet calls per latency figure.
// Rows that need cgroups are left out, with a row saying why, where this process cannot make
// groups beneath its own cgroup.
std::vector<Figure> resourcesFigures(const std::string& bin, kj::AsyncIoContext& io, int n);

}  // namespace airlock::bench

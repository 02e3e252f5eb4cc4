#pragma once
// The metrics read from airlockd's state at the moment of a scrape, rather than counted as
// events: the policy revision in force (an info metric), each unit's workers, parking, calls in
// flight, replaced workers and paced requests, and its cgroup's resource use where the unit has
// one (broker/resources/). Reading them at the scrape costs the per-call path nothing.
//
// Event-loop thread only (it reads Routing, which only that thread changes): the metrics server
// (metrics_server.h) serves scrapes on the loop.

#include <prometheus/registry.h>

#include "broker/state/routing.h"

namespace airlock::broker::metrics {

// Registers, in `scrape` (a registry made for this one scrape, so a unit a reload removed
// leaves no stale series), the state metrics as they are now. docs/metrics.md lists them.
void addStateMetrics(const Routing& routing, prometheus::Registry& scrape);

}  // namespace airlock::broker::metrics

#pragma once
// One line per metric family: its name and help, registered in a registry. The names follow
// Prometheus conventions (airlock_ prefix, _total on counters, base units), as
// `promtool check metrics` checks (MetricsTest.PromtoolFindsNoProblemInARealScrape).

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace airlock::broker::metrics {

inline prometheus::Family<prometheus::Counter>& counterFamily(prometheus::Registry& registry,
                                                             const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

inline prometheus::Family<prometheus::Gauge>& gaugeFamily(prometheus::Registry& registry,
                                                         const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

inline prometheus::Family<prometheus::Histogram>& histogramFamily(
    prometheus::Registry& registry, const char* name, const char* help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
}

}  // namespace airlock::broker::metrics

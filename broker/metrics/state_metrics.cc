#include "broker/metrics/state_metrics.h"


#include "broker/metrics/families.h"
#include "broker/resources/resource_groups.h"

namespace airlock::broker::metrics {

namespace _ {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;

double seconds(uint64_t micros) { return static_cast<double>(micros) / 1e6; }

// A unit's cgroup readings (resource_groups.h GroupUsage), where the unit has a group.
struct ResourceFamilies {
  explicit ResourceFamilies(prometheus::Registry& scrape)
      : memory(gaugeFamily(scrape, "airlock_unit_memory_bytes",
                     "Memory the unit's workers hold now (their cgroup)")),
        memoryPeak(gaugeFamily(scrape, "airlock_unit_memory_peak_bytes",
                         "The most memory the unit's cgroup has held")),
        cpu(counterFamily(scrape, "airlock_unit_cpu_seconds_total",
                    "CPU time of every process that ran in the unit's cgroup")),
        throttledPeriods(counterFamily(scrape, "airlock_unit_cpu_throttled_periods_total",
                                 "CFS periods in which cpu_max_percent held the unit back")),
        throttled(counterFamily(scrape, "airlock_unit_cpu_throttled_seconds_total",
                          "How long cpu_max_percent held the unit back")),
        oomKills(counterFamily(scrape, "airlock_unit_oom_kills_total",
                         "Processes the kernel's OOM killer took in the unit's cgroup")) {}

  void add(const prometheus::Labels& labels, const resources::GroupUsage& used) {
    memory.Add(labels).Set(static_cast<double>(used.memoryBytes));
    memoryPeak.Add(labels).Set(static_cast<double>(used.memoryPeakBytes));
    cpu.Add(labels).Increment(seconds(used.cpuMicros));
    throttledPeriods.Add(labels).Increment(static_cast<double>(used.throttledPeriods));
    throttled.Add(labels).Increment(seconds(used.throttledMicros));
    oomKills.Add(labels).Increment(static_cast<double>(used.oomKills));
  }

  Family<Gauge>& memory;
  Family<Gauge>& memoryPeak;
  Family<Counter>& cpu;
  Family<Counter>& throttledPeriods;
  Family<Counter>& throttled;
  Family<Counter>& oomKills;
};

}  // namespace _

void addStateMetrics(const Routing& routing, prometheus::Registry& scrape) {
  const PolicySet& policy = *routing.policy;
  gaugeFamily(scrape, "airlock_policy_info", "The policy set in force: its revision; always 1")
      .Add({{"revision", *policy.revision}})
      .Set(1);
  gaugeFamily(scrape, "airlock_calls_in_flight", "Host calls dispatched and not yet answered")
      .Add({})
      .Set(static_cast<double>(routing.callsInFlight));
  auto& workers = gaugeFamily(scrape, "airlock_unit_workers",
                           "Workers of the unit serving or starting");
  auto& parked = gaugeFamily(scrape, "airlock_unit_parked",
                          "1 while the unit is parked (its calls refused until a reload)");
  auto& restarts = counterFamily(scrape, "airlock_worker_restarts_total",
                              "Workers replaced after an exit or a kill, since the unit's pool "
                              "started (a reload that restarts the unit starts it again)");
  auto& paced = counterFamily(scrape, "airlock_requests_paced_total",
                           "Brokered requests of the unit's workers made to wait for their turn "
                           "under max_requests_per_second");
  _::ResourceFamilies resources(scrape);
  for (const auto& unit : policy.units) {
    prometheus::Labels labels{{"unit", unit.name}};
    auto pacer = routing.pacers.find(unit.name);
    paced.Add(labels).Increment(
        pacer == routing.pacers.end() ? 0 : static_cast<double>(pacer->second->delayed()));
    auto pool = routing.pools.find(unit.name);
    if (pool == routing.pools.end()) continue;
    UnitPool::Status status = pool->second->status();
    size_t live = 0;
    for (pid_t pid : status.pids) live += pid != 0 ? 1 : 0;
    workers.Add(labels).Set(static_cast<double>(live));
    parked.Add(labels).Set(status.parked ? 1 : 0);
    restarts.Add(labels).Increment(static_cast<double>(status.restarts));
    if (status.usage) resources.add(labels, *status.usage);
  }
}

}  // namespace airlock::broker::metrics

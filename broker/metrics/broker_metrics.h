#pragma once
// What `airlockd --metrics` keeps: the registry of counted metrics and their counter, the audit
// log's observer (record_metrics.h). main() builds it before the audit log (which it observes,
// and must outlive) and, once the broker's state exists, the MetricsServer that serves it
// (metrics_server.h). Without --metrics none of this exists and the log has no observer: the
// per-call path then costs one null check.

#include <prometheus/registry.h>

#include "broker/metrics/record_metrics.h"

namespace airlock::broker::metrics {

struct BrokerMetrics {
  prometheus::Registry registry;
  RecordMetrics records{registry};  // after registry, which holds its families
};

}  // namespace airlock::broker::metrics

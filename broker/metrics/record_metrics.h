#pragma once
// The metrics airlockd counts from its audit records: each decision and lifecycle event is
// already one record written in one place (audit/audit_log.h), so counting there covers every
// handler, host or worker side, with no code in any of them — and nothing is counted that is
// not on record. Calls by unit, method, decision and result, with their durations; brokered
// requests by operation (a row of the one operations table, broker/policy/model/operations.h)
// and decision; flow-limit refusals; worker spawns, exits and parkings; policy reloads; the
// audit log's own lines, bytes, refusals and fdatasyncs. docs/metrics.md lists them.
//
// Owned by airlockd's main(), which hands it to the audit log as its observer; registers its
// families in `registry`, which must outlive it. Threading as AuditObserver: synced() from any
// thread (it touches only a histogram and a counter made here, both thread-safe); the rest on the
// event loop.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "audit/audit_log.h"
#include "audit/audit_observer.h"
#include "broker/metrics/label_bound.h"

namespace airlock::broker::metrics {

// Distinct unit names, and unit-and-method pairs, kept as labels (label_bound.h). Policies name
// the units; a host may name others (refused as no such unit) and any method: past these, such
// names are counted as OTHER_LABEL.
inline constexpr size_t MAX_UNIT_LABELS = 256;
inline constexpr size_t MAX_METHOD_LABELS = 2048;

class RecordMetrics final : public audit::AuditObserver {
 public:
  explicit RecordMetrics(prometheus::Registry& registry);

  void recorded(const audit::AuditRecord& record) override;
  void lineWritten(size_t bytes) override;
  void refused(const audit::AuditRecord& record) override;
  void synced(std::chrono::nanoseconds took, bool ok) override;

 private:
  void countCall(const audit::AuditRecord& record);
  void countWorker(const audit::AuditRecord& record);

  LabelBound units_{MAX_UNIT_LABELS};
  LabelBound methods_{MAX_METHOD_LABELS};
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Histogram>& callDuration_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& busy_;
  prometheus::Family<prometheus::Counter>& spawns_;
  prometheus::Family<prometheus::Counter>& exits_;
  prometheus::Family<prometheus::Counter>& parkings_;
  prometheus::Family<prometheus::Counter>& reloads_;
  prometheus::Counter& auditRecords_;
  prometheus::Counter& auditBytes_;
  prometheus::Family<prometheus::Counter>& auditRefused_;
  prometheus::Histogram& auditSync_;
  prometheus::Counter& auditSyncFailures_;
};

}  // namespace airlock::broker::metrics

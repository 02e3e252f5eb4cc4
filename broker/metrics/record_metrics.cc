#include "broker/metrics/record_metrics.h"

#include <array>
#include <string_view>

#include "broker/calls/dispatch.h"
#include "broker/metrics/families.h"
#include "broker/policy/model/operations.h"

namespace airlock::broker::metrics {

namespace _ {

// Call durations: from a cached answer (~100 us) to the longest call timeouts.
const prometheus::Histogram::BucketBoundaries CALL_SECONDS = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
// One fdatasync: ~140 us on this kind of disk, milliseconds when it stalls.
const prometheus::Histogram::BucketBoundaries SYNC_SECONDS = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1};

constexpr char OK_RESULT[] = "ok";

// A call record's result as a label: "ok" or the error kind its text starts with (dispatch.h
// errorKindName: "unit crashed: worker pid 812 ..." is "unit_crashed"), so the label has at
// most a dozen values whatever a worker puts in its error text.
std::string resultKind(const std::string& result) {
  if (result == OK_RESULT) return OK_RESULT;
  std::string_view kind(result);
  kind = kind.substr(0, kind.find(':'));
  for (uint16_t value = 0; value <= static_cast<uint16_t>(rpc::ErrorKind::BUSY); ++value) {
    if (kind == errorKindName(static_cast<rpc::ErrorKind>(value))) {
      std::string label(kind);
      for (char& c : label) {
        if (c == ' ') c = '_';
      }
      return label;
    }
  }
  return "other";
}

// A worker.spawn's result: "started /path" or "sandbox setup failed: ...".
const char* spawnOutcome(const std::string& result) {
  return result.rfind("started", 0) == 0 ? "started" : "failed";
}

// A policy.reload's result: "applied" or "refused: revision R stays in force".
const char* reloadOutcome(const std::string& result) {
  return result == "applied" ? "applied" : "refused";
}

std::string textArg(const audit::AuditRecord& record, const char* name) {
  auto found = record.args.find(name);
  if (found == record.args.end() || !found->is_string()) return "";
  return found->get<std::string>();
}

}  // namespace _

RecordMetrics::RecordMetrics(prometheus::Registry& registry)
    : calls_(counterFamily(registry, "airlock_calls_total",
                           "Calls to units (host calls and the callee's side of invokes) "
                           "answered, by unit, method, decision and result")),
      callDuration_(histogramFamily(registry, "airlock_call_duration_seconds",
                                    "Time from a call's receipt to its answer, by unit")),
      requests_(counterFamily(registry, "airlock_requests_total",
                              "Brokered requests decided (fs.*, net.connect, secrets.get, "
                              "invoke, ...), by operation and decision")),
      busy_(counterFamily(registry, "airlock_flow_busy_total",
                          "Calls answered busy by a unit's flow limits, by unit and limit")),
      spawns_(counterFamily(registry, "airlock_worker_spawns_total",
                            "Worker starts, by unit and outcome (started, failed)")),
      exits_(counterFamily(registry, "airlock_worker_exits_total",
                           "Worker exits, by unit and cause (exited, failed, crashed, deadline, "
                           "out-of-memory, reload, shutdown, ...)")),
      parkings_(counterFamily(registry, "airlock_unit_parkings_total",
                              "Times a unit was parked, by unit and the key that parked it")),
      reloads_(counterFamily(registry, "airlock_policy_reloads_total",
                             "Policy reloads, by outcome (applied, refused)")),
      auditRecords_(counterFamily(registry, "airlock_audit_records_total",
                                  "Lines written to the audit log: records, checkpoints, "
                                  "continuations")
                        .Add({})),
      auditBytes_(counterFamily(registry, "airlock_audit_written_bytes_total",
                                "Bytes written to the audit log")
                      .Add({})),
      auditRefused_(counterFamily(registry, "airlock_audit_append_failures_total",
                                  "Records the audit log could not take (the operation each "
                                  "describes was refused), by event")),
      auditSync_(histogramFamily(registry, "airlock_audit_sync_duration_seconds",
                                 "Duration of each fdatasync of the audit log")
                     .Add({}, _::SYNC_SECONDS)),
      auditSyncFailures_(counterFamily(registry, "airlock_audit_sync_failures_total",
                                       "Failed fdatasyncs of the audit log (each stops the log)")
                             .Add({})) {}

void RecordMetrics::recorded(const audit::AuditRecord& record) {
  const std::string& event = record.event;
  if (event == "call") {
    countCall(record);
  } else if (event.rfind("worker.", 0) == 0 || event.rfind("unit.", 0) == 0) {
    countWorker(record);
  } else if (event == "policy.reload") {
    reloads_.Add({{"outcome", _::reloadOutcome(record.result)}}).Increment();
  } else if (!record.decision.empty()) {
    // Every row of the one operations table but `call` (counted above, with its method).
    auto operation = policy::operationNamed(event);
    if (operation && *operation != policy::Operation::CALL) {
      requests_.Add({{"operation", event}, {"decision", record.decision}}).Increment();
    }
  }
}

void RecordMetrics::countCall(const audit::AuditRecord& record) {
  std::string unit = units_.admit(record.unit);
  std::string method = methods_.admit(unit + "/" + _::textArg(record, "method"));
  method = method == OTHER_LABEL ? method : method.substr(unit.size() + 1);
  std::string result = _::resultKind(record.result);
  calls_.Add({{"unit", unit}, {"method", method}, {"decision", record.decision},
              {"result", result}})
      .Increment();
  if (record.durationMicros >= 0) {
    callDuration_.Add({{"unit", unit}}, _::CALL_SECONDS)
        .Observe(static_cast<double>(record.durationMicros) / 1e6);
  }
  if (result == "busy") busy_.Add({{"unit", unit}, {"limit", record.rule}}).Increment();
}

void RecordMetrics::countWorker(const audit::AuditRecord& record) {
  const std::string& event = record.event;
  if (event == "worker.spawn") {
    spawns_.Add({{"unit", units_.admit(record.unit)}, {"outcome", _::spawnOutcome(record.result)}})
        .Increment();
  } else if (event == "worker.exit") {
    std::string cause = printableLabel(_::textArg(record, "cause"));
    exits_.Add({{"unit", units_.admit(record.unit)}, {"cause", cause}}).Increment();
  } else if (event == "unit.parked") {
    parkings_.Add({{"unit", units_.admit(record.unit)}, {"rule", record.rule}}).Increment();
  }
}

void RecordMetrics::lineWritten(size_t bytes) {
  auditRecords_.Increment();
  auditBytes_.Increment(static_cast<double>(bytes));
}

void RecordMetrics::refused(const audit::AuditRecord& record) {
  auditRefused_.Add({{"event", printableLabel(record.event)}}).Increment();
}

void RecordMetrics::synced(std::chrono::nanoseconds took, bool ok) {
  auditSync_.Observe(std::chrono::duration<double>(took).count());
  if (!ok) auditSyncFailures_.Increment();
}

}  // namespace airlock::broker::metrics

#include "broker/metrics/record_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <memory>

namespace airlock::broker::metrics {
namespace {

audit::AuditRecord callRecord(const std::string& unit, const std::string& method,
                              const std::string& decision, const std::string& result) {
  audit::AuditRecord record;
  record.event = "call";
  record.unit = unit;
  record.args["method"] = method;
  record.decision = decision;
  record.result = result;
  record.durationMicros = 1500;
  return record;
}

class RecordMetricsTest : public ::testing::Test {
 protected:
  std::string scrape() { return prometheus::TextSerializer().Serialize(registry_.Collect()); }
  bool has(const std::string& line) { return scrape().find(line + "\n") != std::string::npos; }

  prometheus::Registry registry_;
  // Held by pointer: an AuditObserver's destructor may throw (as kj's are), a fixture's may not.
  std::unique_ptr<RecordMetrics> owned_ = std::make_unique<RecordMetrics>(registry_);
  RecordMetrics& metrics_ = *owned_;
};

TEST_F(RecordMetricsTest, ACallRecordIsCountedByUnitMethodDecisionAndResultKind) {
  metrics_.recorded(callRecord("thumbnailer", "thumbnail", "allow", "ok"));
  metrics_.recorded(callRecord("thumbnailer", "thumbnail", "allow",
                               "unit crashed: worker pid 812 killed by SIGSEGV"));
  metrics_.recorded(callRecord("thumbnailer", "thumbnail", "allow",
                               "worker failed: anything the worker says"));
  metrics_.recorded(callRecord("thumbnailer", "x", "deny", "denied"));
  std::string text = scrape();
  EXPECT_TRUE(has("airlock_calls_total{decision=\"allow\",method=\"thumbnail\",result=\"ok\","
                  "unit=\"thumbnailer\"} 1")) << text;
  EXPECT_TRUE(has("airlock_calls_total{decision=\"allow\",method=\"thumbnail\","
                  "result=\"unit_crashed\",unit=\"thumbnailer\"} 1")) << text;
  EXPECT_TRUE(has("airlock_calls_total{decision=\"allow\",method=\"thumbnail\","
                  "result=\"worker_failed\",unit=\"thumbnailer\"} 1")) << text;
  EXPECT_TRUE(has("airlock_calls_total{decision=\"deny\",method=\"x\",result=\"denied\","
                  "unit=\"thumbnailer\"} 1")) << text;
  EXPECT_TRUE(has("airlock_call_duration_seconds_count{unit=\"thumbnailer\"} 4")) << text;
  EXPECT_TRUE(has("airlock_call_duration_seconds_bucket{unit=\"thumbnailer\",le=\"0.0025\"} 4"))
      << text;
}

TEST_F(RecordMetricsTest, AResultTheBrokerDoesNotWriteIsOther) {
  metrics_.recorded(callRecord("u", "m", "allow", "something: else"));
  EXPECT_TRUE(has("airlock_calls_total{decision=\"allow\",method=\"m\",result=\"other\","
                  "unit=\"u\"} 1")) << scrape();
}

TEST_F(RecordMetricsTest, AFlowLimitRefusalIsCountedByItsRule) {
  auto busy = callRecord("u", "m", "deny", "busy");
  busy.rule = "unit.max_calls_in_flight";
  metrics_.recorded(busy);
  EXPECT_TRUE(has("airlock_flow_busy_total{limit=\"unit.max_calls_in_flight\",unit=\"u\"} 1"))
      << scrape();
}

TEST_F(RecordMetricsTest, EveryOperationOfTheTableButCallIsARequestAndNothingElseIs) {
  for (const char* event : {"fs.open", "fs.stat", "net.connect", "secrets.get", "invoke"}) {
    audit::AuditRecord record;
    record.event = event;
    record.decision = "deny";
    metrics_.recorded(record);
  }
  audit::AuditRecord admitted;
  admitted.event = "fs.open.admitted";
  admitted.decision = "allow";
  metrics_.recorded(admitted);
  std::string text = scrape();
  for (const char* event : {"fs.open", "fs.stat", "net.connect", "secrets.get", "invoke"}) {
    EXPECT_TRUE(has(std::string("airlock_requests_total{decision=\"deny\",operation=\"") + event +
                    "\"} 1")) << text;
  }
  EXPECT_EQ(text.find("operation=\"call\""), std::string::npos) << text;
  EXPECT_EQ(text.find("fs.open.admitted"), std::string::npos) << text;
  EXPECT_EQ(text.find("decision=\"allow\",operation"), std::string::npos) << text;
}

TEST_F(RecordMetricsTest, WorkerAndUnitLifecycleAndReloadsAreCounted) {
  audit::AuditRecord spawn;
  spawn.event = "worker.spawn";
  spawn.unit = "u";
  spawn.result = "started /bin/w";
  metrics_.recorded(spawn);
  spawn.result = "sandbox setup failed: pivot_root: EPERM";
  metrics_.recorded(spawn);
  audit::AuditRecord exit;
  exit.event = "worker.exit";
  exit.unit = "u";
  exit.args["cause"] = "out-of-memory";
  metrics_.recorded(exit);
  audit::AuditRecord parked;
  parked.event = "unit.parked";
  parked.unit = "u";
  parked.rule = "unit.crash_loop_limit";
  metrics_.recorded(parked);
  audit::AuditRecord reload;
  reload.event = "policy.reload";
  reload.result = "refused: revision abc stays in force";
  metrics_.recorded(reload);
  std::string text = scrape();
  EXPECT_TRUE(has("airlock_worker_spawns_total{outcome=\"started\",unit=\"u\"} 1")) << text;
  EXPECT_TRUE(has("airlock_worker_spawns_total{outcome=\"failed\",unit=\"u\"} 1")) << text;
  EXPECT_TRUE(has("airlock_worker_exits_total{cause=\"out-of-memory\",unit=\"u\"} 1")) << text;
  EXPECT_TRUE(has("airlock_unit_parkings_total{rule=\"unit.crash_loop_limit\",unit=\"u\"} 1"))
      << text;
  EXPECT_TRUE(has("airlock_policy_reloads_total{outcome=\"refused\"} 1")) << text;
}

TEST_F(RecordMetricsTest, MethodsAHostMakesUpStopMakingSeriesAtTheirBound) {
  for (size_t i = 0; i < MAX_METHOD_LABELS + 10; ++i) {
    metrics_.recorded(callRecord("u", "m" + std::to_string(i), "deny", "denied"));
  }
  std::string text = scrape();
  EXPECT_TRUE(has("airlock_calls_total{decision=\"deny\",method=\"(other)\",result=\"denied\","
                  "unit=\"u\"} 10")) << text.substr(0, 2000);
  EXPECT_TRUE(has("airlock_calls_total{decision=\"deny\",method=\"m0\",result=\"denied\","
                  "unit=\"u\"} 1"));
}

TEST_F(RecordMetricsTest, TheLogsLinesBytesRefusalsAndSyncsAreCounted) {
  metrics_.lineWritten(100);
  metrics_.lineWritten(50);
  audit::AuditRecord refused;
  refused.event = "fs.open.admitted";
  metrics_.refused(refused);
  metrics_.synced(std::chrono::microseconds(140), true);
  metrics_.synced(std::chrono::milliseconds(3), false);
  std::string text = scrape();
  EXPECT_TRUE(has("airlock_audit_records_total 2")) << text;
  EXPECT_TRUE(has("airlock_audit_written_bytes_total 150")) << text;
  EXPECT_TRUE(has("airlock_audit_append_failures_total{event=\"fs.open.admitted\"} 1")) << text;
  EXPECT_TRUE(has("airlock_audit_sync_duration_seconds_count 2")) << text;
  EXPECT_TRUE(has("airlock_audit_sync_duration_seconds_bucket{le=\"0.00025\"} 1")) << text;
  EXPECT_TRUE(has("airlock_audit_sync_failures_total 1")) << text;
}

}  // namespace
}  // namespace airlock::broker::metrics

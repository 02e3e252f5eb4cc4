#include "audit/report_model.h"

#include "audit/record_outcome.h"

namespace airlock::audit {

namespace _ {

bool isLifecycleEvent(const std::string& event) {
  return event == "broker.start" || event == "broker.stop" || event == "worker.spawn" ||
         event == "worker.exit" || event == "log.rate_limited" || event == "audit.continued";
}

}  // namespace _

bool isSandboxViolation(const LoggedRecord& record) {
  if (record.event == "worker.exit") {
    return record.result.find("seccomp") != std::string::npos ||
           record.result.find("SIGSYS") != std::string::npos;
  }
  if (record.event == "worker.spawn") {
    return record.result.rfind("sandbox setup failed", 0) == 0;
  }
  return false;
}

ReportModel::ReportModel(std::vector<std::string> files, VerificationOutcome verification)
    : files_(kj::mv(files)), verification_(kj::mv(verification)), stats_(BASE_BUCKET_MICROS) {}

void ReportModel::add(const LoggedRecord& record) {
  stats_.add(record);
  if (!_::isLifecycleEvent(record.event)) return;
  bool violation = isSandboxViolation(record);
  std::string cause;
  KJ_IF_MAYBE(exit, exitCause(record)) { cause = std::string(*exit); }
  if (!record.unit.empty()) {
    auto& workers = workersByUnit_[record.unit];
    workers.spawns += record.event == "worker.spawn";
    workers.exits += record.event == "worker.exit";
    workers.violations += violation;
    workers.crashes += cause == "crashed" || cause == "failed";
    workers.stoppedByAirlockd += !cause.empty() && causedByAirlockd(cause);
  }
  if (events_.size() >= MAX_EVENTS) {
    ++eventsOmitted_;
    return;
  }
  auto pid = record.json.find("worker_pid");
  events_.push_back(ReportEvent{
      record.timeMicros, record.event, record.unit, record.result, cause,
      pid != record.json.end() && pid->is_number_integer() ? pid->get<int64_t>() : 0,
      violation});
}

int64_t ReportModel::chartBucketMicros() const {
  constexpr int64_t MINUTE = BASE_BUCKET_MICROS;
  for (int64_t width : {MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE, 360 * MINUTE,
                        1440 * MINUTE, 7 * 1440 * MINUTE}) {
    if ((stats_.lastMicros() - stats_.firstMicros()) / width < MAX_CHART_BUCKETS) return width;
  }
  return 30 * 1440 * MINUTE;
}

}  // namespace airlock::audit

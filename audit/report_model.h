#pragma once
// What `airlock audit report` puts on its page, gathered from the records: the counts of
// RecordStats, per unit the workers' exits and sandbox violations, and the lifecycle and
// violation events themselves, beside the verification result the caller got from
// audit::verifyLog.
//
// Memory is bounded: RecordStats bounds its tables, and at most MAX_EVENTS events are kept.
// One thread at a time.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "audit/record_reader.h"
#include "audit/record_stats.h"

namespace airlock::audit {

// The verification result as the page shows it.
struct VerificationOutcome {
  bool ok = false;
  std::vector<std::string> lines;  // the "ok: ..." summary, or one line per problem
};

struct ReportEvent {
  int64_t timeMicros = 0;
  std::string event, unit, result;
  std::string cause;      // a worker.exit's (record_outcome.h: crashed, shutdown, ...)
  int64_t workerPid = 0;  // 0: none
  bool violation = false;
};

struct UnitWorkers {
  uint64_t spawns = 0, exits = 0, violations = 0;
  // Of the exits: by the worker itself other than cleanly (a crash, a failing status), and
  // those airlockd caused (shutdown, reload, parked, a deadline): apart, so the SIGKILL every
  // worker gets at shutdown is not counted as a crash.
  uint64_t crashes = 0, stoppedByAirlockd = 0;
};

// A sandbox violation: a worker killed for a refused syscall (seccomp, SIGSYS), or a sandbox
// that could not be set up.
bool isSandboxViolation(const LoggedRecord& record);

class ReportModel {
 public:
  static constexpr size_t MAX_EVENTS = 2000;
  static constexpr int64_t BASE_BUCKET_MICROS = 60 * 1000000LL;  // finest chart resolution

  ReportModel(std::vector<std::string> files, VerificationOutcome verification);

  void add(const LoggedRecord& record);
  void setMalformedLines(uint64_t count) { malformedLines_ = count; }

  const std::vector<std::string>& files() const { return files_; }
  const VerificationOutcome& verification() const { return verification_; }
  const RecordStats& stats() const { return stats_; }
  const std::map<std::string, UnitWorkers>& workersByUnit() const { return workersByUnit_; }
  // broker.start/stop, worker.spawn/exit, log.rate_limited and audit.continued (rotation)
  // records, in log order.
  const std::vector<ReportEvent>& events() const { return events_; }
  uint64_t eventsOmitted() const { return eventsOmitted_; }
  uint64_t malformedLines() const { return malformedLines_; }

  // The chart's bucket width: the smallest of 1 min, 5 min, 15 min, 1 h, 6 h, 1 d, 7 d, 30 d
  // that spreads the records' time span over at most MAX_CHART_BUCKETS buckets.
  static constexpr int64_t MAX_CHART_BUCKETS = 120;
  int64_t chartBucketMicros() const;

 private:
  std::vector<std::string> files_;
  VerificationOutcome verification_;
  RecordStats stats_;
  std::map<std::string, UnitWorkers> workersByUnit_;
  std::vector<ReportEvent> events_;
  uint64_t eventsOmitted_ = 0;
  uint64_t malformedLines_ = 0;
};

}  // namespace airlock::audit

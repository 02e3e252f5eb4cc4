#pragma once
// log for workers: the broker-side `Log` capability, handed with every call (no policy rule: a
// log line grants nothing, and what a worker can do with it is bounded here), and the per-unit
// state that bounds it (UnitLog). Broker-side, event-loop thread only.
//
// A line goes to airlockd's spdlog output as `[unit pid] message`. It is not an audit record
// (a worker could otherwise fill the audit log); only a rate-limit engagement writes one.

#include <sys/types.h>

#include <kj/async.h>
#include <kj/refcount.h>
#include <kj/timer.h>

#include <string>
#include <string_view>

#include <airlock/capnp/worker.capnp.h>

#include "audit/audit_log.h"
#include "broker/caps/call_scope.h"

namespace airlock::broker {

// Longest line a worker may log, in bytes before escaping; longer lines are cut with a marker.
// A log line is for a human: 4 KiB holds any useful one, and caps the broker's log per call.
inline constexpr size_t MAX_LOG_LINE_BYTES = 4096;

// Token bucket per unit: a worker looping on log() must not fill the broker's disk or drown
// other units' lines. 100 lines/s sustained, bursts of 200.
struct LogLimits {
  double linesPerSecond = 100;
  double burstLines = 200;
  kj::Duration reportEvery = 1 * kj::SECONDS;  // how often dropped lines are counted in the log
};

// The escaped, cut form of a worker's line: policy::printable's escaping (a worker must not
// forge log lines with a newline or drive a terminal), cut at MAX_LOG_LINE_BYTES with
// " [cut N bytes]".
std::string sanitizeLogLine(std::string_view message);

class UnitLog final : private kj::TaskSet::ErrorHandler {
 public:
  // Borrows `timer` and `audit`, which must outlive it.
  UnitLog(std::string unit, kj::Timer& timer, audit::AuditLog& audit, LogLimits limits = {});

  // Writes the line, or drops and counts it if the unit is over its rate. The first drop after
  // a report writes one "log.rate_limited" audit record and schedules a "dropped N log lines"
  // line `reportEvery` later; that record names `callId`, the call whose Log capability wrote
  // the line (empty: the worker's own output, which belongs to no call).
  void write(pid_t pid, rpc::LogLevel level, std::string_view message,
             const std::string& callId = "");

  uint64_t dropped() const { return dropped_; }  // since the last report

 private:
  bool takeToken();
  void engage(pid_t pid, const std::string& callId);
  void taskFailed(kj::Exception&& exception) override;

  std::string unit_;
  kj::Timer& timer_;
  audit::AuditLog& audit_;
  LogLimits limits_;
  double tokens_;
  kj::TimePoint refilled_;
  uint64_t dropped_ = 0;
  bool reportPending_ = false;
  kj::TaskSet tasks_;  // last: cancelled before the members its tasks use
};

class LogServer final : public rpc::Log::Server {
 public:
  // `unitLog` is the unit's, owned by main(); outlives every call.
  LogServer(kj::Own<CallScope> scope, UnitLog& unitLog)
      : scope_(kj::mv(scope)), unitLog_(unitLog) {}

  kj::Promise<void> log(LogContext context) override;
  // A line after the call ended never gets here: the membrane every worker capability passes
  // (request_pacer.h) refuses it, with a capability.expired record.

 private:
  kj::Own<CallScope> scope_;
  UnitLog& unitLog_;
};

}  // namespace airlock::broker

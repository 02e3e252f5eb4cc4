#include "broker/caps/log.h"

#include <kj/debug.h>
#include <spdlog/spdlog.h>

#include "broker/policy/model/printable.h"

namespace airlock::broker {

std::string sanitizeLogLine(std::string_view message) {
  size_t kept = std::min(message.size(), MAX_LOG_LINE_BYTES);
  std::string out = policy::printable(message.substr(0, kept), kept);
  if (message.size() > kept) out += " [cut " + std::to_string(message.size() - kept) + " bytes]";
  return out;
}

UnitLog::UnitLog(std::string unit, kj::Timer& timer, audit::AuditLog& audit, LogLimits limits)
    : unit_(kj::mv(unit)), timer_(timer), audit_(audit), limits_(limits),
      tokens_(limits.burstLines), refilled_(timer.now()), tasks_(*this) {}

bool UnitLog::takeToken() {
  kj::TimePoint now = timer_.now();
  double seconds = static_cast<double>((now - refilled_) / kj::NANOSECONDS) / 1e9;
  refilled_ = now;
  tokens_ = std::min(limits_.burstLines, tokens_ + seconds * limits_.linesPerSecond);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void UnitLog::write(pid_t pid, rpc::LogLevel level, std::string_view message,
                    const std::string& callId) {
  if (!takeToken()) {
    ++dropped_;
    if (!reportPending_) engage(pid, callId);
    return;
  }
  std::string line = sanitizeLogLine(message);
  switch (level) {
    case rpc::LogLevel::DEBUG: spdlog::debug("[{} {}] {}", unit_, pid, line); break;
    case rpc::LogLevel::INFO: spdlog::info("[{} {}] {}", unit_, pid, line); break;
    case rpc::LogLevel::WARN: spdlog::warn("[{} {}] {}", unit_, pid, line); break;
    case rpc::LogLevel::ERROR: spdlog::error("[{} {}] {}", unit_, pid, line); break;
    default: spdlog::info("[{} {}] (unknown level) {}", unit_, pid, line); break;
  }
}

// The unit just went over its rate: one audit record now, one count line a report period later.
void UnitLog::engage(pid_t pid, const std::string& callId) {
  reportPending_ = true;
  audit::AuditRecord record;
  record.event = "log.rate_limited";
  record.unit = unit_;
  record.workerPid = pid;
  record.callId = callId;
  record.args["lines_per_second"] = limits_.linesPerSecond;
  record.args["burst_lines"] = limits_.burstLines;
  record.result = "dropping log lines";
  if (!audit_.append(record)) {
    spdlog::error("[{}] cannot write the log.rate_limited audit record", unit_);
  }
  tasks_.add(timer_.afterDelay(limits_.reportEvery).then([this]() {
    spdlog::warn("[{}] dropped {} log lines (limit {} lines/s, burst {})", unit_, dropped_,
                 limits_.linesPerSecond, limits_.burstLines);
    dropped_ = 0;
    reportPending_ = false;
  }));
}

void UnitLog::taskFailed(kj::Exception&& exception) {
  spdlog::error("[{}] log report failed: {}", unit_, exception.getDescription().cStr());
}

kj::Promise<void> LogServer::log(LogContext context) {
  auto params = context.getParams();
  auto text = params.getMessage();
  unitLog_.write(scope_->workerPid, params.getLevel(), std::string_view(text.begin(), text.size()),
                 scope_->callId);
  return kj::READY_NOW;
}

}  // namespace airlock::broker

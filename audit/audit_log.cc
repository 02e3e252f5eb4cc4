#include "audit/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kj/debug.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>

namespace airlock::audit {

namespace _ {

class SystemWallClock final : public WallClock {
 public:
  int64_t nowMicrosSinceEpoch() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// The sequence number to continue with: one past the last complete record's "seq".
uint64_t sequenceAfterExisting(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  if (last.empty()) return 1;
  auto parsed = nlohmann::json::parse(last, nullptr, /*allow_exceptions=*/false);
  KJ_REQUIRE(parsed.is_object() && parsed.contains("seq") && parsed["seq"].is_number_unsigned(),
             "audit log's last line is not a record; refusing to append to a damaged log",
             path);
  return parsed["seq"].get<uint64_t>() + 1;
}

}  // namespace _

const WallClock& systemWallClock() {
  static const _::SystemWallClock clock;
  return clock;
}

kj::Own<AuditLog> AuditLog::open(const std::string& path, const WallClock& clock) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int error = errno;
    KJ_FAIL_REQUIRE("cannot open audit log", path, strerror(error));
  }
  kj::AutoCloseFd owned(fd);
  uint64_t next = _::sequenceAfterExisting(path);
  return kj::heap<AuditLog>(kj::mv(owned), path, next, clock);
}

AuditLog::AuditLog(kj::AutoCloseFd fd, std::string path, uint64_t nextSequence,
                   const WallClock& clock)
    : fd_(kj::mv(fd)), path_(kj::mv(path)), nextSequence_(nextSequence), clock_(clock) {}

std::string AuditLog::formatTime(int64_t micros) {
  time_t seconds = static_cast<time_t>(micros / 1000000);
  struct tm utc;
  gmtime_r(&seconds, &utc);
  char buffer[64];
  size_t n = strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(buffer + n, sizeof(buffer) - n, ".%06dZ", static_cast<int>(micros % 1000000));
  return buffer;
}

bool AuditLog::append(const AuditRecord& r) {
  nlohmann::ordered_json j;
  j["seq"] = nextSequence_;
  j["time"] = formatTime(clock_.nowMicrosSinceEpoch());
  j["event"] = r.event;
  auto putIfSet = [&j](const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
  };
  putIfSet("unit", r.unit);
  if (r.workerPid != 0) j["worker_pid"] = r.workerPid;
  putIfSet("caller", r.caller);
  putIfSet("call_id", r.callId);
  if (!r.args.empty()) j["args"] = r.args;
  putIfSet("decision", r.decision);
  putIfSet("rule", r.rule);
  putIfSet("reason", r.reason);
  putIfSet("result", r.result);
  if (r.durationMicros >= 0) j["duration_us"] = r.durationMicros;

  // Invalid UTF-8 from a worker (e.g. in a path) is replaced, never allowed to abort the record.
  std::string line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  line.push_back('\n');
  // One write on an O_APPEND fd: a record is never interleaved with another writer's.
  ssize_t written = ::write(fd_.get(), line.data(), line.size());
  if (written != static_cast<ssize_t>(line.size())) {
    int error = errno;
    KJ_LOG(ERROR, "audit append failed; refusing the operation it describes", path_,
           written < 0 ? strerror(error) : "short write", nextSequence_);
    return false;
  }
  ++nextSequence_;
  return true;
}

}  // namespace airlock::audit

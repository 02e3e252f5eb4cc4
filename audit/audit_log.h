#pragma once
// The audit log writer: one JSON object per line, one line per decision or lifecycle event.
//
// Each record reaches the file (one write(2) on an O_APPEND descriptor) before append()
// returns, so a record is in the page cache before the answer it describes is sent. A failed or
// short write makes append() return false: callers must then refuse the operation (fail closed).
// Owned by the broker's main(); used from the broker's single event-loop thread only.

#include <kj/io.h>
#include <kj/memory.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace airlock::audit {

// What a decision or event was about. Fields left empty are omitted from the record.
struct AuditRecord {
  std::string event;        // "call", "fs.open", "auth", "worker.spawn", "worker.exit", ...
  std::string unit;
  int64_t workerPid = 0;    // host pid; 0 when not about a worker
  std::string caller;       // "uid:1000"
  std::string callId;       // ties a host call to the worker requests made while serving it
  nlohmann::ordered_json args = nlohmann::ordered_json::object();  // paths yes, secret values never
  std::string decision;     // "allow" or "deny" for decisions; empty for lifecycle events
  std::string rule;         // id of the deciding rule
  std::string reason;
  std::string result;       // what happened when acting on the decision
  int64_t durationMicros = -1;  // -1: not measured
};

// Source of record timestamps, so tests can pin time.
class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual int64_t nowMicrosSinceEpoch() const = 0;
};
const WallClock& systemWallClock();

class AuditLog {
 public:
  // Opens (creating with mode 0600, appending to) `path`. Throws naming the path and errno if it
  // cannot. Continues the sequence after the last record of an existing file.
  static kj::Own<AuditLog> open(const std::string& path, const WallClock& clock);

  AuditLog(kj::AutoCloseFd fd, std::string path, uint64_t nextSequence, const WallClock& clock);

  bool append(const AuditRecord& record);
  // Returns false, and logs why to stderr, if the record could not be written whole.

  uint64_t nextSequence() const { return nextSequence_; }
  const std::string& path() const { return path_; }

  static std::string formatTime(int64_t microsSinceEpoch);  // RFC 3339, UTC, microseconds

 private:
  kj::AutoCloseFd fd_;
  std::string path_;
  uint64_t nextSequence_;
  const WallClock& clock_;
};

}  // namespace airlock::audit

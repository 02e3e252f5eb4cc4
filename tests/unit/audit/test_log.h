#pragma once
// Helpers for the audit unit tests: a temporary directory, a pinned clock, a signed log written
// by the real AuditLog, and line-level doctoring of copies.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/verifier.h"

namespace airlock::audit::testing {

class FixedClock final : public WallClock {
 public:
  int64_t nowMicrosSinceEpoch() const override { return 1795717753123456; }
};

class ScratchDir {
 public:
  ScratchDir() {
    char pattern[] = "/tmp/airlock-audit-test-XXXXXX";
    EXPECT_NE(mkdtemp(pattern), nullptr);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::string command = "rm -rf '" + path_ + "'";
    if (system(command.c_str()) != 0) ADD_FAILURE() << "could not remove " << path_;
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

inline void writeLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (auto& line : lines) out << line << "\n";
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline AuditRecord callRecord(int n) {
  AuditRecord record;
  record.event = "call";
  record.unit = "thumbnailer";
  record.caller = "uid:1000";
  record.callId = "c-" + std::to_string(n);
  record.args["method"] = "thumbnail";
  record.args["payload_bytes"] = n;
  record.decision = "allow";
  record.rule = "web-may-thumbnail";
  record.reason = "matched";
  record.result = "ok";
  return record;
}

// A log as a clean airlockd run leaves it: broker.start, `calls` call records, a checkpoint after
// every `every` records, then the closing checkpoint; rotating at `rotateBytes` if not 0.
// Returns the signing key (for --key).
inline PublicKey writeSignedLog(const std::string& path, const std::string& anchorPath,
                                int calls, uint64_t every, uint64_t rotateBytes = 0) {
  static FixedClock clock;
  auto key = SigningKey::generate();
  PublicKey publicKey = key->publicKey();
  AuditLogOptions options;
  options.key = kj::mv(key);
  options.checkpointEveryRecords = every;
  options.anchorPath = anchorPath;
  options.rotateBytes = rotateBytes;
  auto log = AuditLog::open(path, clock, kj::mv(options));
  AuditRecord start;
  start.event = "broker.start";
  EXPECT_TRUE(log->append(start));
  for (int i = 1; i <= calls; ++i) EXPECT_TRUE(log->append(callRecord(i)));
  log->close();
  return publicKey;
}

inline VerifyReport verify(const std::string& path, kj::Maybe<PublicKey> key = nullptr,
                           const std::string& anchor = "") {
  VerifyOptions options;
  options.logPaths = {path};
  options.trustedKey = key;
  options.anchorPath = anchor;
  return verifyLog(options);
}

inline std::string describeAll(const VerifyReport& report) {
  std::string text = report.summary() + "\n";
  for (auto& problem : report.problems) text += problem.describe() + "\n";
  return text;
}

inline bool names(const VerifyReport& report, Finding kind) {
  for (auto& problem : report.problems) {
    if (problem.kind == kind) return true;
  }
  return false;
}

}  // namespace airlock::audit::testing

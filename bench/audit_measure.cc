#include "bench/audit_measure.h"

#include <fcntl.h>
#include <unistd.h>

#include <kj/debug.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "audit/chain.h"
#include "audit/verifier.h"

namespace airlock::bench {

namespace {

using Clock = std::chrono::steady_clock;

audit::AuditRecord typicalRecord(int i) {
  audit::AuditRecord r;
  r.event = "fs.open";
  r.unit = "thumbnailer";
  r.workerPid = 4242;
  r.caller = "client:web,uid:1000";
  r.callId = "c-" + std::to_string(i);
  r.args["path"] = "/srv/images/cats/" + std::to_string(i) + ".png";
  r.args["mode"] = "read";
  r.decision = "allow";
  r.rule = "images-read-only";
  r.reason = "allowed by rule \"images-read-only\" (thumbnailer.toml:12): path matches "
             "/srv/images/**, modes read ⊆ read";
  r.result = "fd passed";
  return r;
}

audit::AuditLogOptions signedOptions() {
  audit::AuditLogOptions options;
  options.sync = audit::SyncMode::GROUP;
  options.key = audit::SigningKey::generate();
  options.checkpointEveryRecords = 1000;
  return options;
}

double perSecond(int count, Clock::duration elapsed) {
  return count / std::chrono::duration<double>(elapsed).count();
}

}  // namespace

AuditAppendFigures measureAuditAppend(const std::string& dir, int records) {
  AuditAppendFigures figures;
  {
    std::string path = dir + "/chained.jsonl";
    auto log = audit::AuditLog::open(path, audit::systemWallClock(), signedOptions());
    log->startGroupCommitThread(std::chrono::milliseconds(5));
    auto start = Clock::now();
    for (int i = 0; i < records; ++i) KJ_REQUIRE(log->append(typicalRecord(i)));
    log->close();  // the last records are durable when this returns
    figures.chainedPerSecond = perSecond(records, Clock::now() - start);
    unlink(path.c_str());
  }
  {
    std::string path = dir + "/plain.jsonl";
    int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    KJ_REQUIRE(fd >= 0);
    kj::AutoCloseFd owned(fd);
    auto start = Clock::now();
    for (int i = 0; i < records; ++i) {
      auto r = typicalRecord(i);
      nlohmann::ordered_json j;
      j["seq"] = i;
      j["event"] = r.event;
      j["unit"] = r.unit;
      j["worker_pid"] = r.workerPid;
      j["caller"] = r.caller;
      j["call_id"] = r.callId;
      j["args"] = r.args;
      j["decision"] = r.decision;
      j["rule"] = r.rule;
      j["reason"] = r.reason;
      j["result"] = r.result;
      std::string line = j.dump() + "\n";
      KJ_REQUIRE(write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    }
    figures.plainPerSecond = perSecond(records, Clock::now() - start);
    unlink(path.c_str());
  }
  std::string line(300, 'x');
  constexpr int HASHES = 100000;
  auto start = Clock::now();
  size_t sink = 0;
  for (int i = 0; i < HASHES; ++i) sink += audit::lineHashHex(line).size();
  KJ_REQUIRE(sink > 0);
  figures.hashMicros =
      std::chrono::duration<double, std::micro>(Clock::now() - start).count() / HASHES;
  return figures;
}

double measureVerifySeconds(const std::string& dir, int records, audit::LineHashing hashing) {
  std::string path = dir + "/verify.jsonl";
  auto options = signedOptions();
  audit::PublicKey publicKey;
  KJ_IF_MAYBE(key, options.key) { publicKey = (*key)->publicKey(); }
  {
    auto log = audit::AuditLog::open(path, audit::systemWallClock(), kj::mv(options));
    for (int i = 0; i < records; ++i) KJ_REQUIRE(log->append(typicalRecord(i)));
    log->close();
  }
  audit::VerifyOptions verify;
  verify.logPaths = {path};
  verify.trustedKey = publicKey;
  verify.hashing = hashing;
  auto start = Clock::now();
  auto report = audit::verifyLog(verify);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  KJ_REQUIRE(report.ok(), "the benchmark log must verify", report.summary());
  unlink(path.c_str());
  return seconds;
}

}  // namespace airlock::bench

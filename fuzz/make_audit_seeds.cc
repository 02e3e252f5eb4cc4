// Writes audit_verify_fuzzer's seed corpus: a few short logs as airlockd's AuditLog writes them
// (signed with the fixed seed key, unsigned, with periodic checkpoints, rotated), each in the
// fuzzer's input form (audit_fuzz_input.h). Run once by hand when the log format changes:
//   build-fuzz/bin/make_audit_seeds fuzz/corpus/audit_verify_fuzzer

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/rotation_set.h"
#include "audit/signing_key.h"
#include "fuzz/audit_fuzz_input.h"

namespace airlock::fuzz {
namespace {

using namespace airlock::audit;

class FixedClock final : public WallClock {
 public:
  int64_t nowMicrosSinceEpoch() const override { return 1795717753123456; }
};

AuditRecord callRecord(int n) {
  AuditRecord record;
  record.event = "call";
  record.unit = "thumbnailer";
  record.caller = "client web (uid 1000)";
  record.callId = "c-" + std::to_string(n);
  record.args["method"] = "thumbnail";
  record.args["path"] = "/srv/images/\"odd\"\n\u00e9.png";
  record.decision = n % 3 == 0 ? "deny" : "allow";
  record.rule = "web-may-thumbnail";
  record.reason = "caller client web (uid 1000) listed, method thumbnail listed";
  record.result = "ok";
  record.durationMicros = 40 + n;
  return record;
}

std::string readWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// One log of `calls` calls; its files joined in the fuzzer's input form into `out`.
void writeSeed(const std::string& scratch, const std::string& out, bool signedLog, int calls,
               uint64_t every, uint64_t rotateBytes) {
  FixedClock clock;
  std::string path = scratch + "/audit.jsonl";
  AuditLogOptions options;
  if (signedLog) options.key = SigningKey::fromSeed(SEED_LOG_KEY_SEED);
  options.checkpointEveryRecords = every;
  options.rotateBytes = rotateBytes;
  {
    auto log = AuditLog::open(path, clock, kj::mv(options));
    AuditRecord start;
    start.event = "broker.start";
    KJ_REQUIRE(log->append(start), path);
    for (int i = 1; i <= calls; ++i) KJ_REQUIRE(log->append(callRecord(i)), path);
    log->close();
  }
  std::string joined;
  for (const std::string& file : listRotationSet(path)) {
    if (!joined.empty()) joined += FILE_SEPARATOR;
    joined += readWhole(file);
    unlink(file.c_str());
  }
  std::ofstream(out, std::ios::binary | std::ios::trunc) << joined;
  std::printf("%s: %zu bytes\n", out.c_str(), joined.size());
}

}  // namespace
}  // namespace airlock::fuzz

int main(int argc, char** argv) {
  using airlock::fuzz::writeSeed;
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_audit_seeds CORPUS_DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  char scratch[] = "/tmp/airlock-audit-seeds-XXXXXX";
  if (mkdtemp(scratch) == nullptr) return 1;
  writeSeed(scratch, dir + "/signed-closed.jsonl", true, 3, 1000, 0);
  writeSeed(scratch, dir + "/signed-periodic.jsonl", true, 5, 2, 0);
  writeSeed(scratch, dir + "/unsigned.jsonl", false, 2, 1000, 0);
  writeSeed(scratch, dir + "/signed-rotated.jsonl", true, 4, 1000, 1200);
  rmdir(scratch);
  return 0;
}

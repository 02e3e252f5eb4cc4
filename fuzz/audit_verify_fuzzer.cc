// libFuzzer target: the input is an audit log (one file, or a rotated set split by
// FILE_SEPARATOR lines, audit_fuzz_input.h), verified as `airlock audit verify` does, without and
// with --key (the seeds' fixed key). It must never crash, hang or throw, and a log that verifies
// must be one only the writer could have made:
//  - with --key, a passing log with records ends in a closing checkpoint that verified;
//  - a passing log's checkpoints are all in the writer's exact form (no field the signature does
//    not cover can have been added or changed) and all verified;
//  - --key only adds checks: what passes with it passes without it.
// Every line is also put to the verifier's fast scanner (record_scanner.h), whose "proven
// canonical" must agree with the general JSON parser: same bytes when re-serialised, same seq,
// prev and event.

#include <sys/mman.h>
#include <unistd.h>

#include <kj/debug.h>
#include <kj/io.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "audit/json_fields.h"
#include "audit/record_scanner.h"
#include "audit/signing_key.h"
#include "audit/verifier.h"
#include "fuzz/audit_fuzz_input.h"
#include "fuzz/fuzz_check.h"

namespace airlock::fuzz {
namespace {

using namespace airlock::audit;
using Json = nlohmann::ordered_json;

// A file holding `bytes`, named by a /proc/self/fd path the verifier can open. memfd: no
// directory to create or clean up, and nothing written to disk per input.
struct InputFile {
  kj::AutoCloseFd fd;
  std::string path;
};

InputFile memoryFile(std::string_view bytes) {
  int raw;
  KJ_SYSCALL(raw = memfd_create("audit-fuzz", MFD_CLOEXEC));
  kj::AutoCloseFd fd(raw);
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n;
    KJ_SYSCALL(n = write(fd.get(), bytes.data() + written, bytes.size() - written));
    written += static_cast<size_t>(n);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd.get());
  return InputFile{kj::mv(fd), kj::mv(path)};
}

// Bounds the files per input: each costs the verifier a read buffer, and two files already reach
// every rotation check (continuation, missing and out-of-order files).
constexpr size_t MAX_FILES = 4;

// The input cut at FILE_SEPARATOR lines, at most MAX_FILES pieces (later separators stay lines).
std::vector<std::string_view> splitFiles(std::string_view input) {
  std::vector<std::string_view> files;
  size_t fileStart = 0, lineStart = 0;
  while (lineStart < input.size()) {
    if (files.size() + 1 < MAX_FILES && input.substr(lineStart).starts_with(FILE_SEPARATOR)) {
      files.push_back(input.substr(fileStart, lineStart - fileStart));
      fileStart = lineStart = lineStart + FILE_SEPARATOR.size();
      continue;
    }
    size_t end = input.find('\n', lineStart);
    lineStart = end == std::string_view::npos ? input.size() : end + 1;
  }
  files.push_back(input.substr(fileStart));
  return files;
}

std::vector<std::string_view> linesOf(std::string_view file) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < file.size()) {
    size_t end = file.find('\n', start);
    if (end == std::string_view::npos) end = file.size();
    lines.push_back(file.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string dumpAsVerifierDoes(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The scanner's "proven canonical" is what the general parser says too.
void checkScannerAgrees(std::string_view line) {
  KJ_IF_MAYBE(scanned, scanCanonicalRecord(line)) {
    std::string detail = "line: " + std::string(line);
    Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    fuzzCheck(!j.is_discarded() && j.is_object(), "a scanned line is a JSON object", detail);
    fuzzCheck(dumpAsVerifierDoes(j) == line, "a scanned line is in the serialiser's exact form",
              detail + "\nre-serialised: " + dumpAsVerifierDoes(j));
    fuzzCheck(j.contains("seq") && j["seq"].is_number_unsigned() &&
                  j["seq"].get<uint64_t>() == scanned->seq,
              "the scanned seq is the record's seq", detail);
    fuzzCheck(j.contains("prev") && j["prev"].is_string() &&
                  j["prev"].get<std::string>() == scanned->prev,
              "the scanned prev is the record's prev", detail);
    bool plainEvent = scanned->event.find('\\') == std::string_view::npos;
    fuzzCheck(j.contains("event") && j["event"].is_string() &&
                  (!plainEvent || j["event"].get<std::string>() == scanned->event),
              "the scanned event is the record's event", detail);
  }
}

// The fields AuditLog::checkpoint() writes, in its order; the signature covers covers, chain,
// time and closing, the line's place in the chain covers seq and prev.
bool inCheckpointForm(const Json& j) {
  static constexpr const char* KEYS[] = {"seq",    "time", "event", "prev", "covers",
                                         "chain", "closing", "key", "sig"};
  if (!j.is_object() || j.size() != std::size(KEYS)) return false;
  size_t i = 0;
  for (auto& [key, value] : j.items()) {
    if (key != KEYS[i++]) return false;
  }
  return j["covers"].is_number_unsigned() && j["seq"].is_number_unsigned() &&
         j["covers"].get<uint64_t>() + 1 == j["seq"].get<uint64_t>() && j["chain"] == j["prev"];
}

struct Checkpoints {
  uint64_t count = 0;
  bool lastLineIsClosing = false;
};

// The checkpoint lines of a log that verified: each in the writer's form.
Checkpoints checkCheckpointForms(const std::vector<std::string_view>& files) {
  Checkpoints seen;
  for (std::string_view file : files) {
    for (std::string_view line : linesOf(file)) {
      Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
      bool isCheckpoint = stringField(j, "event") == "checkpoint";
      seen.lastLineIsClosing = isCheckpoint && trueField(j, "closing");
      if (!isCheckpoint) continue;
      ++seen.count;
      fuzzCheck(inCheckpointForm(j), "a verified log's checkpoints are in the writer's form",
                "line: " + std::string(line));
    }
  }
  return seen;
}

void checkReportShape(const VerifyReport& report) {
  fuzzCheck(report.problems.size() <= VerifyReport::MAX_PROBLEMS, "problems are bounded",
            std::to_string(report.problems.size()));
  for (const Problem& problem : report.problems) {
    fuzzCheck(!problem.message.empty() && problem.describe().starts_with(problem.file + ":"),
              "a problem names its file and says what", problem.describe());
  }
}

std::string describeReport(const VerifyReport& report) {
  std::string text = report.summary() + "\n";
  for (const Problem& problem : report.problems) text += problem.describe() + "\n";
  return text;
}

PublicKey seedLogKey() {
  return SigningKey::fromSeed(SEED_LOG_KEY_SEED)->publicKey();
}

}  // namespace
}  // namespace airlock::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace airlock::fuzz;
  using namespace airlock::audit;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> files = splitFiles(input);
  std::vector<InputFile> held;
  VerifyOptions options;
  for (std::string_view file : files) {
    held.push_back(memoryFile(file));
    options.logPaths.push_back(held.back().path);
  }
  options.hashing = LineHashing::INLINE;
  VerifyReport unkeyed = verifyLog(options);
  // Hashing ahead on a second thread only moves where hashes are computed: same findings.
  options.hashing = LineHashing::AHEAD;
  VerifyReport ahead = verifyLog(options);
  fuzzCheck(describeReport(ahead) == describeReport(unkeyed),
            "hashing ahead changes nothing",
            "ahead:\n" + describeReport(ahead) + "inline:\n" + describeReport(unkeyed));
  options.hashing = LineHashing::INLINE;
  options.trustedKey = seedLogKey();
  VerifyReport keyed = verifyLog(options);
  checkReportShape(unkeyed);
  checkReportShape(keyed);
  fuzzCheck(!keyed.ok() || unkeyed.ok(), "--key only adds checks",
            "with --key:\n" + describeReport(keyed) + "without:\n" + describeReport(unkeyed));
  if (unkeyed.ok()) {
    Checkpoints checkpoints = checkCheckpointForms(files);
    fuzzCheck(checkpoints.count == unkeyed.checkpoints,
              "every checkpoint of a verified log verified", describeReport(unkeyed));
    fuzzCheck(checkpoints.count == 0 || checkpoints.lastLineIsClosing,
              "a verified signed log ends in a closing checkpoint", describeReport(unkeyed));
    fuzzCheck(!keyed.ok() || keyed.records == 0 || keyed.checkpoints > 0,
              "with --key, a verified log with records has a verified checkpoint",
              describeReport(keyed));
  }
  for (std::string_view file : files) {
    for (std::string_view line : linesOf(file)) checkScannerAgrees(line);
  }
  return 0;
}

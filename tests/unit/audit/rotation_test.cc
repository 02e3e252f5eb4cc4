// Rotation by size: the writer closes a file, renames it aside and continues seq and chain in a
// new file; the verifier checks a set end to end and names a file missing or out of order.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "audit/audit_log.h"
#include "audit/chain.h"
#include "audit/rotation_set.h"
#include "audit/verifier.h"
#include "tests/unit/audit/test_log.h"

namespace airlock::audit {
namespace {

using namespace testing;

std::vector<std::string> rotationSet(const std::string& path) { return listRotationSet(path); }

VerifyReport verifySet(const std::vector<std::string>& files, kj::Maybe<PublicKey> key,
                       const std::string& anchor = "") {
  VerifyOptions options;
  options.logPaths = files;
  options.trustedKey = key;
  options.anchorPath = anchor;
  return verifyLog(options);
}

std::string baseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

class RotationTest : public ::testing::Test {
 protected:
  // broker.start and `calls` call records, rotating at ROTATE_BYTES, checkpoint every 5.
  void writeLog(int calls) { key_ = writeSignedLog(log_, anchor_, calls, 5, ROTATE_BYTES); }

  static constexpr uint64_t ROTATE_BYTES = 3000;
  ScratchDir dir_;
  std::string log_ = dir_.file("audit.jsonl"), anchor_ = dir_.file("anchor.jsonl");
  kj::Maybe<PublicKey> key_;
};

TEST_F(RotationTest, EachFilesFirstRecordAndOnlyItCarriesASegmentIdOfItsOwn) {
  writeLog(60);
  auto files = rotationSet(log_);
  ASSERT_GE(files.size(), 4u);
  std::set<std::string> ids;
  for (auto& file : files) {
    auto lines = readLines(file);
    ASSERT_FALSE(lines.empty());
    auto first = nlohmann::json::parse(lines.front());
    ASSERT_TRUE(first["args"].contains(SEGMENT_ID_ARG)) << lines.front();
    std::string id = first["args"][SEGMENT_ID_ARG];
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    ids.insert(id);
    for (size_t i = 1; i < lines.size(); ++i) {
      EXPECT_EQ(lines[i].find(SEGMENT_ID_ARG), std::string::npos) << lines[i];
    }
  }
  EXPECT_EQ(ids.size(), files.size()) << "no two files share one";
}

TEST_F(RotationTest, EachFileStaysUnderTheLimitAndTheNextOneContinuesItsChain) {
  writeLog(60);
  auto files = rotationSet(log_);
  ASSERT_GE(files.size(), 4u);
  EXPECT_EQ(baseName(files[0]), "audit.jsonl.00000000000000000001");
  std::string lastLine;
  uint64_t lastSeq = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    auto lines = readLines(files[i]);
    ASSERT_FALSE(lines.empty());
    auto first = nlohmann::json::parse(lines.front());
    auto last = nlohmann::json::parse(lines.back());
    if (i + 1 < files.size()) {
      // Only the closing checkpoint may go past the limit.
      EXPECT_LE(readFile(files[i]).size() - lines.back().size() - 1, ROTATE_BYTES) << files[i];
      EXPECT_EQ(last["event"], "checkpoint") << files[i];
      EXPECT_EQ(last["closing"], true) << "a rotated file is closed: " << files[i];
    }
    if (i == 0) {
      EXPECT_EQ(first["event"], "broker.start");
    } else {
      EXPECT_EQ(first["event"], "audit.continued") << files[i];
      EXPECT_EQ(first["args"]["from_file"], baseName(files[i - 1]));
      EXPECT_EQ(first["args"]["from_seq"], lastSeq);
      EXPECT_EQ(first["args"]["from_hash"], lineHashHex(lastLine));
      EXPECT_EQ(first["prev"], lineHashHex(lastLine)) << "the chain runs on across files";
      EXPECT_EQ(first["seq"], lastSeq + 1) << "so does seq";
      EXPECT_EQ(baseName(files[i - 1]), baseName(rotatedPath(log_, nlohmann::json::parse(
                                                                 readLines(files[i - 1])[0])["seq"])));
    }
    lastLine = lines.back();
    lastSeq = last["seq"];
  }
  auto report = verifySet(files, key_, anchor_);
  ASSERT_TRUE(report.ok()) << describeAll(report);
  EXPECT_NE(report.summary().find("chain intact, anchor matches"), std::string::npos);
}

TEST_F(RotationTest, ReopeningARotatedLogGoesOnRotatingAndTheSetStillVerifies) {
  writeLog(30);
  writeLog(30);  // a restart: a new key is fine without --key
  auto report = verifySet(rotationSet(log_), nullptr);
  ASSERT_TRUE(report.ok()) << describeAll(report);
}

TEST_F(RotationTest, AMiddleFileRemovedIsNamedAsMissingAtTheFileAfterTheGap) {
  writeLog(60);
  auto files = rotationSet(log_);
  std::string removed = files[1];
  files.erase(files.begin() + 1);
  auto report = verifySet(files, key_);
  ASSERT_EQ(report.problems.size(), 1u) << describeAll(report);
  auto& problem = report.problems[0];
  EXPECT_EQ(problem.kind, Finding::FILE_MISSING);
  EXPECT_EQ(problem.file, files[1]);
  EXPECT_EQ(problem.line, 1u);
  EXPECT_EQ(problem.message.find("file missing: this file continues " + baseName(removed)), 0u)
      << problem.message;
  EXPECT_NE(problem.message.find("the file given before it, " + files[0] + ", ends at seq"),
            std::string::npos) << problem.message;

  auto withAnchor = verifySet(files, key_, anchor_);
  EXPECT_TRUE(names(withAnchor, Finding::FILE_MISSING)) << describeAll(withAnchor);
}

TEST_F(RotationTest, TwoSwappedFilesAreNamedAsOutOfOrderAndTheRecordsStillCheck) {
  writeLog(60);
  auto files = rotationSet(log_);
  std::swap(files[1], files[2]);
  auto report = verifySet(files, key_, anchor_);
  ASSERT_EQ(report.problems.size(), 1u) << describeAll(report);
  EXPECT_EQ(report.problems[0].kind, Finding::FILES_OUT_OF_ORDER);
  EXPECT_EQ(report.problems[0].file, files[1]);
  EXPECT_EQ(report.problems[0].message.find("files out of order: this file continues " + files[2]),
            0u) << report.problems[0].message;
}

TEST_F(RotationTest, TheCurrentFileAloneSaysTheFilesBeforeItAreMissing) {
  writeLog(60);
  auto report = verifySet({log_}, key_);
  ASSERT_EQ(report.problems.size(), 1u) << describeAll(report);
  EXPECT_EQ(report.problems[0].kind, Finding::FILE_MISSING);
  EXPECT_NE(report.problems[0].message.find("give the rotated files before it, oldest first"),
            std::string::npos) << report.problems[0].message;
}

TEST_F(RotationTest, ARecordModifiedInAnEarlierFileIsStillFoundAcrossTheSet) {
  writeLog(60);
  auto files = rotationSet(log_);
  auto lines = readLines(files[1]);
  auto j = nlohmann::ordered_json::parse(lines[2]);
  j["decision"] = "deny";
  lines[2] = j.dump();
  writeLines(files[1], lines);
  auto report = verifySet(files, key_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems[0].kind, Finding::MODIFIED) << describeAll(report);
  EXPECT_EQ(report.problems[0].file, files[1]);
  EXPECT_EQ(report.problems[0].line, 3u);
}

TEST_F(RotationTest, AFileWhoseFirstRecordHasAnEventOfAnotherTypeIsReportedNotFatal) {
  // Found by the fuzzer: the continuation check read "event" assuming a string and threw.
  writeLog(60);
  auto files = rotationSet(log_);
  auto lines = readLines(files[1]);
  auto first = nlohmann::ordered_json::parse(lines[0]);
  first["event"] = 41;
  lines[0] = first.dump();
  writeLines(files[1], lines);
  auto report = verifySet(files, key_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems[0].file, files[1]) << describeAll(report);
}

}  // namespace
}  // namespace airlock::audit

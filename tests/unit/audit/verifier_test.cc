// The verifier on logs written by the real AuditLog, and on doctored copies: each kind of
// tampering must be found and named as that kind, at the right line and seq.

#include "audit/verifier.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "audit/chain.h"
#include "audit/hash_ahead_reader.h"
#include "tests/unit/audit/test_log.h"

namespace airlock::audit {
namespace {

using namespace testing;

class VerifierTest : public ::testing::Test {
 protected:
  // 1 broker.start + 8 calls, a checkpoint after every 3 records, closing checkpoint:
  //   line: 1 start, 2-3 calls, 4 ckpt, 5-7 calls, 8 ckpt, 9-11 calls, 12 ckpt, 13 closing ckpt
  void SetUp() override {
    key_ = writeSignedLog(log_, anchor_, 8, 3);
    lines_ = readLines(log_);
  }
  VerifyReport doctored(const std::vector<std::string>& lines, bool withAnchor = false) {
    writeLines(copy_, lines);
    return verify(copy_, key_, withAnchor ? anchor_ : "");
  }
  // Only `kind` is named (and at least once).
  static void expectOnly(const VerifyReport& report, Finding kind) {
    ASSERT_FALSE(report.ok()) << describeAll(report);
    for (auto& problem : report.problems) {
      EXPECT_EQ(problem.kind, kind) << describeAll(report);
      if (problem.kind != Finding::NOT_CLOSED) {
        EXPECT_EQ(problem.message.find(findingName(kind)), 0u) << problem.message;
      }
    }
  }
  static std::string setField(const std::string& line, const char* key,
                              const nlohmann::ordered_json& value) {
    auto j = nlohmann::ordered_json::parse(line);
    j[key] = value;
    return j.dump();
  }

  ScratchDir dir_;
  std::string log_ = dir_.file("audit.jsonl"), anchor_ = dir_.file("anchor.jsonl"),
              copy_ = dir_.file("copy.jsonl");
  kj::Maybe<PublicKey> key_;
  std::vector<std::string> lines_;
};

TEST_F(VerifierTest, AnUntouchedLogVerifiesWithItsKeyAndAnchor) {
  ASSERT_EQ(lines_.size(), 13u);
  auto report = verify(log_, key_, anchor_);
  ASSERT_TRUE(report.ok()) << describeAll(report);
  EXPECT_EQ(report.summary(), "ok: 13 records, 4 signed checkpoints, chain intact, anchor matches");
}

TEST_F(VerifierTest, AModifiedRecordIsNamedAtItsLineAndSeq) {
  auto lines = lines_;
  lines[5] = setField(lines[5], "decision", "deny");  // line 6, seq 6
  auto report = doctored(lines);
  expectOnly(report, Finding::MODIFIED);
  EXPECT_EQ(report.problems[0].line, 6u);
  EXPECT_EQ(report.problems[0].seq, 6);
}

TEST_F(VerifierTest, AModifiedRecordJustBeforeACheckpointIsNamed) {
  auto lines = lines_;
  lines[6] = setField(lines[6], "result", "refused");  // line 7, covered by the line 8 checkpoint
  expectOnly(doctored(lines), Finding::MODIFIED);
}

TEST_F(VerifierTest, AChainRecomputedAfterAModificationIsCaughtByTheSignedCheckpoint) {
  // An attacker without the key edits seq 5 and recomputes every prev after it.
  auto lines = lines_;
  lines[4] = setField(lines[4], "decision", "deny");
  for (size_t i = 5; i < lines.size(); ++i) lines[i] = setField(lines[i], "prev", lineHashHex(lines[i - 1]));
  auto report = doctored(lines);
  expectOnly(report, Finding::MODIFIED);
  EXPECT_EQ(report.problems[0].line, 8u) << "found at the first checkpoint after the edit";
}

TEST_F(VerifierTest, ADeletedRecordIsNamedAsASeqGap) {
  auto lines = lines_;
  lines.erase(lines.begin() + 5);  // seq 6
  auto report = doctored(lines);
  expectOnly(report, Finding::DELETED);
  EXPECT_NE(report.problems[0].message.find("seq 6"), std::string::npos) << describeAll(report);
}

TEST_F(VerifierTest, ReorderedRecordsAreNamedAsReorderedNotDeleted) {
  auto lines = lines_;
  std::swap(lines[4], lines[5]);  // seq 6 before seq 5
  auto report = doctored(lines);
  expectOnly(report, Finding::REORDERED);
  EXPECT_EQ(report.problems[0].seq, 5);
}

TEST_F(VerifierTest, AnInsertedCopyOfARecordIsNamedAsInserted) {
  auto lines = lines_;
  lines.insert(lines.begin() + 6, lines[4]);  // seq 5 again, after seq 6
  auto report = doctored(lines);
  expectOnly(report, Finding::INSERTED);
  EXPECT_EQ(report.problems[0].line, 7u);
}

TEST_F(VerifierTest, ARecordAppendedAfterTheClosingCheckpointIsNamedAsInserted) {
  auto lines = lines_;
  auto extra = nlohmann::ordered_json::parse(lines[1]);
  extra["seq"] = 14;
  extra["prev"] = lineHashHex(lines.back());
  lines.push_back(extra.dump());
  auto report = doctored(lines);
  ASSERT_TRUE(names(report, Finding::INSERTED)) << describeAll(report);
}

TEST_F(VerifierTest, ATailCutAfterTheLastCheckpointSaysNotClosedCleanly) {
  auto lines = lines_;
  lines.resize(10);  // the log now ends two records after the line-8 checkpoint
  auto report = doctored(lines);
  expectOnly(report, Finding::NOT_CLOSED);
  EXPECT_EQ(report.problems[0].message,
            "log ends 2 records after its last checkpoint; not closed cleanly: truncated, or the "
            "broker was killed");
}

TEST_F(VerifierTest, ATailCutAtAPeriodicCheckpointIsStillNotClosed) {
  auto lines = lines_;
  lines.resize(8);
  expectOnly(doctored(lines), Finding::NOT_CLOSED);
}

TEST_F(VerifierTest, TheAnchorShowsTheTailWasCut) {
  auto lines = lines_;
  lines.resize(8);
  auto report = doctored(lines, /*withAnchor=*/true);
  EXPECT_TRUE(names(report, Finding::TAIL_CUT)) << describeAll(report);
  EXPECT_TRUE(names(report, Finding::NOT_CLOSED)) << describeAll(report);
}

TEST_F(VerifierTest, ACheckpointWithAChangedFieldHasABadSignature) {
  auto lines = lines_;
  lines.back() = setField(lines.back(), "time", "2030-01-01T00:00:00.000000Z");
  expectOnly(doctored(lines), Finding::BAD_SIGNATURE);
}

// The signature covers covers, chain, time and closing, and the chain covers every earlier line,
// but nothing covers the rest of the closing checkpoint's line: a field added there, or the
// fields put in another order, must still be found (audit_verify_fuzzer found the first).
TEST_F(VerifierTest, AFieldAddedToTheClosingCheckpointIsAModification) {
  auto lines = lines_;
  lines.back() = setField(lines.back(), "note", "written after signing");
  auto report = doctored(lines, /*withAnchor=*/false);
  expectOnly(report, Finding::MODIFIED);
  EXPECT_EQ(report.problems[0].line, 13u);
  EXPECT_NE(report.problems[0].message.find("\"note\""), std::string::npos)
      << report.problems[0].message;
}

TEST_F(VerifierTest, TheClosingCheckpointsFieldsInAnotherOrderAreAModification) {
  auto lines = lines_;
  auto checkpoint = nlohmann::ordered_json::parse(lines.back());
  nlohmann::ordered_json reordered;
  reordered["seq"] = checkpoint["seq"];
  reordered["time"] = checkpoint["time"];
  reordered["event"] = checkpoint["event"];
  reordered["prev"] = checkpoint["prev"];
  for (const char* key : {"sig", "key", "closing", "chain", "covers"}) {
    reordered[key] = checkpoint[key];
  }
  lines.back() = reordered.dump();
  expectOnly(doctored(lines), Finding::MODIFIED);
}

TEST_F(VerifierTest, ALogSignedByAnotherKeyIsNamedWrongKey) {
  auto other = SigningKey::generate()->publicKey();
  auto report = verify(log_, other);
  expectOnly(report, Finding::WRONG_KEY);
  EXPECT_EQ(report.problems.size(), 4u) << "every checkpoint";
}

TEST_F(VerifierTest, ACheckpointThatDiffersFromItsAnchorCopyIsAnAnchorMismatch) {
  auto anchor = readLines(anchor_);
  anchor[0] = setField(anchor[0], "time", "2030-01-01T00:00:00.000000Z");
  writeLines(anchor_, anchor);
  auto report = verify(log_, key_, anchor_);
  expectOnly(report, Finding::ANCHOR_MISMATCH);
  EXPECT_EQ(report.problems[0].line, 4u);
}

// The anchor command delivers at least once: a failed run's lines are handed over again.
TEST_F(VerifierTest, AnAnchorHoldingACheckpointTwiceByteForByteStillMatches) {
  auto anchor = readLines(anchor_);
  anchor.insert(anchor.begin() + 1, anchor[0]);
  writeLines(anchor_, anchor);
  auto report = verify(log_, key_, anchor_);
  EXPECT_TRUE(report.problems.empty()) << describeAll(report);
}

TEST_F(VerifierTest, ALastLineWithoutItsNewlineIsACutTail) {
  writeLines(copy_, lines_);
  std::string text = readFile(copy_);
  std::ofstream(copy_, std::ios::trunc) << text.substr(0, text.size() - 20);
  auto report = verify(copy_, key_);
  EXPECT_TRUE(names(report, Finding::TAIL_CUT)) << describeAll(report);
}

TEST_F(VerifierTest, ProblemLinesAreFileLineSeqWhat) {
  auto lines = lines_;
  lines.erase(lines.begin() + 5);
  auto report = doctored(lines);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems[0].describe(),
            copy_ + ":6: seq 7: deleted record(s): 1 record(s) of seq 6 missing before seq 7");
}

// A log of several 1 MiB chunks (HashAheadReader::CHUNK_BYTES), verified with its lines hashed
// ahead on a second thread and inline, untouched and doctored: in the second chunk, at the line
// that straddles LineReader's first 1 MiB read, and with a cut tail. Both ways must give the same
// report, finding for finding.
class VerifierHashingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir;
    key_ = writeSignedLog(dir_->file("audit.jsonl"), "", 12000, 1000);
    lines_ = new std::vector<std::string>(readLines(dir_->file("audit.jsonl")));
  }
  static void TearDownTestSuite() {
    delete lines_;
    delete dir_;
  }

  // The 0-based index of the line holding byte `offset` of the file.
  static size_t lineAtByte(size_t offset) {
    size_t end = 0;
    for (size_t i = 0; i < lines_->size(); ++i) {
      end += (*lines_)[i].size() + 1;
      if (end > offset) return i;
    }
    ADD_FAILURE() << "the log is shorter than " << offset << " bytes";
    return 0;
  }

  // Verifies `text` both ways, expects the same report, and returns it.
  static VerifyReport verifyBothWays(const std::string& text) {
    std::string path = dir_->file("copy.jsonl");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    VerifyOptions options;
    options.logPaths = {path};
    options.trustedKey = key_;
    options.hashing = LineHashing::AHEAD;
    VerifyReport ahead = verifyLog(options);
    options.hashing = LineHashing::INLINE;
    VerifyReport inlined = verifyLog(options);
    EXPECT_EQ(describeAll(ahead), describeAll(inlined));
    EXPECT_EQ(ahead.records, inlined.records);
    EXPECT_EQ(ahead.checkpoints, inlined.checkpoints);
    EXPECT_EQ(ahead.problems.size(), inlined.problems.size());
    for (size_t i = 0; i < std::min(ahead.problems.size(), inlined.problems.size()); ++i) {
      EXPECT_EQ(ahead.problems[i].kind, inlined.problems[i].kind) << i;
    }
    return ahead;
  }
  static std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (auto& line : lines) text += line + "\n";
    return text;
  }

  static ScratchDir* dir_;
  static kj::Maybe<PublicKey> key_;
  static std::vector<std::string>* lines_;
};
ScratchDir* VerifierHashingTest::dir_ = nullptr;
kj::Maybe<PublicKey> VerifierHashingTest::key_;
std::vector<std::string>* VerifierHashingTest::lines_ = nullptr;

TEST_F(VerifierHashingTest, AnUntouchedLogOfSeveralChunksVerifiesBothWays) {
  std::string text = joined(*lines_);
  ASSERT_GT(text.size(), 3 * HashAheadReader::CHUNK_BYTES);
  auto report = verifyBothWays(text);
  EXPECT_TRUE(report.ok()) << describeAll(report);
  EXPECT_EQ(report.records, lines_->size());
}

TEST_F(VerifierHashingTest, RecordsModifiedAcrossChunkBoundariesAreFoundBothWays) {
  // A chunk ends after the line that brings its text (newlines not counted) to CHUNK_BYTES.
  size_t chunkText = 0, lastOfFirstChunk = 0;
  while (chunkText + (*lines_)[lastOfFirstChunk].size() < HashAheadReader::CHUNK_BYTES) {
    chunkText += (*lines_)[lastOfFirstChunk++].size();
  }
  std::set<size_t> modified = {
      lineAtByte(HashAheadReader::CHUNK_BYTES),  // across LineReader's first 1 MiB read
      lastOfFirstChunk, lastOfFirstChunk + 1,    // either side of the first hand-over
      lineAtByte(HashAheadReader::CHUNK_BYTES * 3 / 2),  // inside the second chunk
      lines_->size() - 5};                                // inside the last chunk
  auto lines = *lines_;
  const std::string allow = "\"decision\":\"allow\"";
  for (size_t i : modified) {
    size_t at = lines[i].find(allow);
    ASSERT_NE(at, std::string::npos) << lines[i];
    lines[i].replace(at, allow.size(), "\"decision\":\"alloW\"");
  }
  auto report = verifyBothWays(joined(lines));
  ASSERT_EQ(report.problems.size(), modified.size()) << describeAll(report);
  auto problem = report.problems.begin();
  for (size_t i : modified) {
    EXPECT_EQ(problem->kind, Finding::MODIFIED) << describeAll(report);
    EXPECT_EQ(problem->line, i + 1) << describeAll(report);
    ++problem;
  }
}

TEST_F(VerifierHashingTest, DeletedMalformedAndCutLinesAreFoundBothWays) {
  auto lines = *lines_;
  size_t deleted = lineAtByte(HashAheadReader::CHUNK_BYTES * 5 / 2);
  lines.erase(lines.begin() + deleted);
  lines[lineAtByte(HashAheadReader::CHUNK_BYTES / 2)] = "{not json";
  lines[lineAtByte(HashAheadReader::CHUNK_BYTES * 2)] = "";
  std::string text = joined(lines);
  auto report = verifyBothWays(text.substr(0, text.size() - 30));
  EXPECT_TRUE(names(report, Finding::DELETED)) << describeAll(report);
  EXPECT_TRUE(names(report, Finding::MALFORMED)) << describeAll(report);
  EXPECT_TRUE(names(report, Finding::TAIL_CUT)) << describeAll(report);
}

TEST(VerifierUnsignedTest, AnUnsignedLogVerifiesWithACaveatButNotAgainstAKey) {
  ScratchDir dir;
  FixedClock clock;
  {
    auto log = AuditLog::open(dir.file("a.jsonl"), clock);
    for (int i = 1; i <= 3; ++i) ASSERT_TRUE(log->append(callRecord(i)));
    log->close();
  }
  auto report = verify(dir.file("a.jsonl"));
  ASSERT_TRUE(report.ok()) << describeAll(report);
  EXPECT_NE(report.summary().find("a cut tail cannot be detected"), std::string::npos);
  auto keyed = verify(dir.file("a.jsonl"), SigningKey::generate()->publicKey());
  ASSERT_FALSE(keyed.ok());
  EXPECT_EQ(keyed.problems[0].kind, Finding::NO_CHECKPOINT) << describeAll(keyed);
}

}  // namespace
}  // namespace airlock::audit

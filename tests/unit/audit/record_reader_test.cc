// Reading records for the audit tools: a log written by the real AuditLog reads back with its
// exact bytes, files are read in order, and each kind of bad line or file is named at FILE:LINE.

#include "audit/record_reader.h"

#include <gtest/gtest.h>

#include "tests/unit/audit/test_log.h"

namespace airlock::audit {
namespace {

using namespace testing;

struct ReadAll {
  std::vector<LoggedRecord> records;
  std::vector<std::string> problems;
};

ReadAll readAll(const std::vector<std::string>& paths) {
  ReadAll all;
  RecordReader reader(paths);
  for (auto& problem : reader.openProblems()) all.problems.push_back(problem.describe());
  LoggedRecord record;
  LineProblem problem;
  for (;;) {
    auto next = reader.next(record, problem);
    if (next == RecordReader::Next::END) break;
    if (next == RecordReader::Next::RECORD) all.records.push_back(record);
    if (next == RecordReader::Next::MALFORMED) all.problems.push_back(problem.describe());
  }
  return all;
}

TEST(RecordReader, ARealLogReadsBackByteForByteWithItsFields) {
  ScratchDir dir;
  writeSignedLog(dir.file("a.jsonl"), dir.file("anchor"), 3, 100);
  auto lines = readLines(dir.file("a.jsonl"));
  auto all = readAll({dir.file("a.jsonl")});
  EXPECT_TRUE(all.problems.empty()) << all.problems[0];
  ASSERT_EQ(all.records.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(all.records[i].line, lines[i]);
    EXPECT_EQ(all.records[i].lineNumber, i + 1);
    EXPECT_EQ(all.records[i].seq, i + 1);
  }
  auto& call = all.records[1];
  EXPECT_EQ(call.event, "call");
  EXPECT_EQ(call.unit, "thumbnailer");
  EXPECT_EQ(call.caller, "uid:1000");
  EXPECT_EQ(call.decision, "allow");
  EXPECT_EQ(call.rule, "web-may-thumbnail");
  EXPECT_EQ(call.result, "ok");
  EXPECT_EQ(call.args()["method"], "thumbnail");
  EXPECT_EQ(call.timeMicros, FixedClock().nowMicrosSinceEpoch());
  EXPECT_EQ(all.records[0].args().size(), 1u) << "broker.start, first in its file, with args";
  EXPECT_EQ(all.records[0].args()[SEGMENT_ID_ARG].get<std::string>().size(), 32u)
      << "only its segment id";
}

TEST(RecordReader, FilesAreReadInTheOrderGiven) {
  ScratchDir dir;
  writeLines(dir.file("2"), {R"({"seq":2,"time":"2026-11-26T18:00:00Z","event":"b"})"});
  writeLines(dir.file("1"), {R"({"seq":1,"time":"2026-11-26T18:00:00Z","event":"a"})"});
  auto all = readAll({dir.file("1"), dir.file("2")});
  ASSERT_EQ(all.records.size(), 2u);
  EXPECT_EQ(all.records[0].event, "a");
  EXPECT_EQ(all.records[1].event, "b");
  EXPECT_EQ(all.records[1].file, dir.file("2"));
  EXPECT_EQ(all.records[1].lineNumber, 1u);
}

TEST(RecordReader, EachBadLineIsNamedAtItsFileAndLineAndReadingGoesOn) {
  ScratchDir dir;
  std::string good = R"({"seq":1,"time":"2026-11-26T18:00:00Z","event":"call"})";
  writeLines(dir.file("log"), {good, "not json", "", "[1,2]",
                               R"({"seq":-1,"time":"2026-11-26T18:00:00Z","event":"x"})",
                               R"({"seq":2,"time":"yesterday","event":"x"})",
                               R"({"seq":2,"time":"2026-11-26T18:00:00Z"})",
                               R"({"seq":2,"time":"2026-11-26T18:00:00Z","event":"x","unit":7})",
                               R"({"seq":2,"time":"2026-11-26T18:00:00Z","event":"x","args":[]})",
                               good});
  {
    std::ofstream append(dir.file("log"), std::ios::app);
    append << good;  // no newline: cut, or still being written
  }
  auto all = readAll({dir.file("log")});
  EXPECT_EQ(all.records.size(), 2u);
  std::vector<std::string> expected = {
      ":2: malformed record: not JSON", ":3: malformed record: empty line",
      ":4: malformed record: not a JSON object", ":5: malformed record: no unsigned \"seq\"",
      ":6: malformed record: \"time\" is not an RFC 3339 date-time",
      ":7: malformed record: no string \"event\"",
      ":8: malformed record: \"unit\" is not a string",
      ":9: malformed record: \"args\" is not an object",
      ":11: malformed record: incomplete last line (no newline)"};
  ASSERT_EQ(all.problems.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(all.problems[i].rfind(dir.file("log") + expected[i], 0), 0u) << all.problems[i];
  }
}

TEST(RecordReader, AnUnreadableFileIsReportedBeforeAnyRecordIsRead) {
  ScratchDir dir;
  writeLines(dir.file("ok"), {R"({"seq":1,"time":"2026-11-26T18:00:00Z","event":"a"})"});
  RecordReader reader({dir.file("ok"), dir.file("missing")});
  ASSERT_EQ(reader.openProblems().size(), 1u);
  EXPECT_EQ(reader.openProblems()[0].describe(),
            dir.file("missing") + ": cannot read: No such file or directory");
}

}  // namespace
}  // namespace airlock::audit

// `airlock audit query` and `airlock audit stats` on logs written by a real airlockd serving
// real calls, allowed and denied: their output is checked against what the test computes from
// the same log on its own, and bad input is named at FILE:LINE.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/sample_traffic.h"

namespace airlock::testing {
namespace {

// Bytes a worker might put in a path to take over a terminal that shows the log.
const std::string TERMINAL_ESCAPE = "\x1b]0;owned\x07\x1b[2J";

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// A real airlockd's log: allowed and denied reads, a denied path carrying terminal escapes,
// calls by a client the policy does not name (denied), and a crashed worker.
class AuditToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = startSampleBroker();
    driveSampleTraffic(*broker_, {"/etc/passwd", "/etc/passwd", "/etc/shadow",
                                  "/tmp/" + TERMINAL_ESCAPE});
    ASSERT_FALSE(HasFatalFailure());
    log_ = broker_->auditPath();
    lines_ = lines(readFile(log_));
    for (auto& line : lines_) records_.push_back(nlohmann::json::parse(line));
  }

  // airlock ARGS..., stdout only (stderr to stderr_).
  RunResult airlock(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>\"$ERR\"",
                                     binDir() + "/airlock"};
    argv.insert(argv.end(), args.begin(), args.end());
    setenv("ERR", scratch_.file("stderr").c_str(), 1);
    auto result = runProgram(argv);
    stderr_ = readFile(scratch_.file("stderr"));
    return result;
  }

  // The lines of the log whose records satisfy `keep`, in order, as query prints them.
  std::string expectedLines(const std::function<bool(const nlohmann::json&)>& keep) const {
    std::string out;
    for (size_t i = 0; i < lines_.size(); ++i) {
      if (keep(records_[i])) out += lines_[i] + "\n";
    }
    return out;
  }

  std::unique_ptr<BrokerProcess> broker_;
  TempDir scratch_;
  std::string log_, stderr_;
  std::vector<std::string> lines_;
  std::vector<nlohmann::json> records_;
};

std::string field(const nlohmann::json& record, const char* key) {
  return record.contains(key) ? record[key].get<std::string>() : "";
}

TEST_F(AuditToolsTest, QueryPrintsExactlyTheMatchingLinesByteForByte) {
  auto denied = airlock({"audit", "query", log_, "--unit", "probe", "--decision", "deny"});
  EXPECT_EQ(denied.exitCode, 0) << stderr_;
  auto expected = expectedLines([](const nlohmann::json& r) {
    return field(r, "unit") == "probe" && field(r, "decision") == "deny";
  });
  EXPECT_EQ(denied.output, expected);
  EXPECT_GE(lines(expected).size(), 6u) << "4 denied opens and 2 denied calls at least";

  auto passwd = airlock({"audit", "query", log_, "--op", "fs.open", "--grep", "passwd"});
  EXPECT_EQ(passwd.output, expectedLines([](const nlohmann::json& r) {
              return field(r, "event") == "fs.open" &&
                     r["args"]["path"].get<std::string>().find("passwd") != std::string::npos;
            }));
  EXPECT_EQ(lines(passwd.output).size(), 2u);

  auto intruder = airlock({"audit", "query", log_, "--caller", "intruder"});
  EXPECT_EQ(intruder.output, expectedLines([](const nlohmann::json& r) {
              return field(r, "caller").rfind("client:intruder,", 0) == 0;
            }));
  EXPECT_EQ(lines(intruder.output).size(), 5u)
      << "its auth, its echo (admitted, then answered), its two refused reads";

  auto byRule = airlock({"audit", "query", log_, "--rule", "data-read", "--rule",
                         "tester-calls-probe", "--decision", "allow"});
  EXPECT_EQ(byRule.output, expectedLines([](const nlohmann::json& r) {
              auto rule = field(r, "rule");
              return (rule == "data-read" || rule == "tester-calls-probe") &&
                     field(r, "decision") == "allow";
            }));
  EXPECT_GE(lines(byRule.output).size(), 6u) << "3 opens and their 3 calls";
}

TEST_F(AuditToolsTest, SinceAndUntilTakeTheRecordsOwnTimesAndOffsets) {
  ASSERT_GE(records_.size(), 4u);
  std::string from = records_[2]["time"], to = records_[records_.size() - 2]["time"];
  auto result = airlock({"audit", "query", log_, "--since", from, "--until", to});
  EXPECT_EQ(result.exitCode, 0) << stderr_;
  EXPECT_EQ(result.output, expectedLines([&](const nlohmann::json& r) {
              std::string time = r["time"];
              return time >= from && time < to;  // same width and zone: text order is time order
            }));
  // The same instant written with an offset.
  std::string shifted = from.substr(0, 11) + std::to_string(std::stoi(from.substr(11, 2)) + 1);
  if (shifted.size() == 12) shifted.insert(11, "0");
  shifted += from.substr(13, from.size() - 14) + "+01:00";
  if (from.substr(11, 2) != "23") {
    auto offset = airlock({"audit", "query", log_, "--since", shifted, "--until", to});
    EXPECT_EQ(offset.output, result.output) << shifted;
  }
  auto none = airlock({"audit", "query", log_, "--since", "1d", "--until", "23h"});
  EXPECT_EQ(none.exitCode, 0);
  EXPECT_EQ(none.output, "") << "nothing was written between a day and 23 hours ago";
}

TEST_F(AuditToolsTest, ARotationSetIsReadInTheOrderGiven) {
  std::string first = scratch_.file("audit.jsonl.1"), second = scratch_.file("audit.jsonl");
  size_t half = lines_.size() / 2;
  {
    std::ofstream a(first), b(second);
    for (size_t i = 0; i < lines_.size(); ++i) (i < half ? a : b) << lines_[i] << "\n";
  }
  auto result = airlock({"audit", "query", first, second});
  EXPECT_EQ(result.exitCode, 0) << stderr_;
  EXPECT_EQ(result.output, readFile(log_));
}

TEST_F(AuditToolsTest, TheTableIsAlignedAndNoLogBytesReachTheTerminalRaw) {
  auto result = airlock({"audit", "query", log_, "--format", "table", "--op", "fs.open"});
  EXPECT_EQ(result.exitCode, 0) << stderr_;
  auto rows = lines(result.output);
  ASSERT_EQ(rows.size(), 1 + 7u) << result.output;  // header and 7 opens
  for (auto column : {"SEQ", "EVENT", "UNIT", "CALLER", "DECISION", "RULE", "ARGS", "RESULT"}) {
    size_t at = rows[0].find(column);
    ASSERT_NE(at, std::string::npos) << column;
    for (size_t i = 1; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i][at - 1], ' ') << column << " column not aligned:\n" << rows[i];
      EXPECT_NE(rows[i][at], ' ') << column << " column not aligned:\n" << rows[i];
    }
  }
  EXPECT_NE(result.output.find("path=/etc/passwd mode=read"), std::string::npos);
  EXPECT_NE(result.output.find("default-deny"), std::string::npos);
  for (char c : result.output) {
    EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f)) << "raw byte " << int(c) << " printed";
  }
  EXPECT_NE(result.output.find("path=/tmp/\\x1b]0;owned\\x07\\x1b[2J"), std::string::npos)
      << "escapes are shown, not sent:\n" << result.output;
}

TEST_F(AuditToolsTest, StatsCountWhatTheTestCountsItself) {
  std::map<std::string, std::map<std::string, int>> byUnit, byOp, byRule;
  std::map<std::string, int> deniedPaths;
  int allowed = 0, denied = 0;
  for (auto& r : records_) {
    std::string decision = field(r, "decision");
    allowed += decision == "allow";
    denied += decision == "deny";
    auto count = [&](std::map<std::string, std::map<std::string, int>>& table,
                     const std::string& key) {
      table[key]["records"]++;
      if (!decision.empty()) table[key][decision == "allow" ? "allowed" : "denied"]++;
    };
    if (!field(r, "unit").empty()) count(byUnit, field(r, "unit"));
    count(byOp, field(r, "event"));
    if (!field(r, "rule").empty()) count(byRule, field(r, "rule"));
    if (decision == "deny" && r["args"].contains("path")) deniedPaths[r["args"]["path"]]++;
  }
  auto result = airlock({"audit", "stats", log_, "--json"});
  ASSERT_EQ(result.exitCode, 0) << stderr_;
  auto stats = nlohmann::json::parse(result.output);
  EXPECT_EQ(stats["records"], records_.size());
  EXPECT_EQ(stats["allowed"], allowed);
  EXPECT_EQ(stats["denied"], denied);
  EXPECT_EQ(stats["malformed_lines"], 0);
  for (auto [name, table] : {std::pair{"by_unit", &byUnit}, std::pair{"by_operation", &byOp},
                             std::pair{"by_rule", &byRule}}) {
    EXPECT_EQ(stats[name].size(), table->size()) << name;
    for (auto& [key, counts] : *table) {
      for (auto what : {"records", "allowed", "denied"}) {
        EXPECT_EQ(stats[name][key][what], counts[what]) << name << " " << key << " " << what;
      }
    }
  }
  EXPECT_EQ(deniedPaths["/etc/passwd"], 2);
  ASSERT_GE(stats["top_denied"]["path"].size(), 3u);
  EXPECT_EQ(stats["top_denied"]["path"][0]["value"], "/etc/passwd");
  EXPECT_EQ(stats["top_denied"]["path"][0]["denied"], 2);
  EXPECT_EQ(stats["top_denied"]["path"].size(), deniedPaths.size());
  uint64_t decisions = 0;
  for (auto& bucket : stats["rate"]["buckets"]) decisions += bucket["decisions"].get<uint64_t>();
  EXPECT_EQ(decisions, uint64_t(allowed + denied)) << "every decision is in some bucket";
  EXPECT_EQ(stats["rate"]["bucket_seconds"], 60);

  auto text = airlock({"audit", "stats", log_, "--bucket", "1h", "--unit", "probe"});
  EXPECT_EQ(text.exitCode, 0) << stderr_;
  EXPECT_NE(text.output.find("decisions per 1h"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("most denied path"), std::string::npos) << text.output;
}

TEST_F(AuditToolsTest, MalformedLinesAreNamedAtFileAndLineAndTheRestIsStillRead) {
  std::string copy = scratch_.file("damaged.jsonl");
  {
    std::ofstream out(copy);
    for (size_t i = 0; i < lines_.size(); ++i) {
      out << lines_[i] << "\n";
      if (i == 1) out << "{\"seq\": garbage\n";
    }
  }
  auto query = airlock({"audit", "query", copy});
  EXPECT_EQ(query.exitCode, 1);
  EXPECT_EQ(stderr_, copy + ":3: malformed record: not JSON\n");
  EXPECT_EQ(query.output, readFile(log_)) << "every record is still printed";

  auto stats = airlock({"audit", "stats", copy, "--json"});
  EXPECT_EQ(stats.exitCode, 1);
  EXPECT_EQ(stderr_, copy + ":3: malformed record: not JSON\n");
  auto json = nlohmann::json::parse(stats.output);
  EXPECT_EQ(json["records"], records_.size());
  EXPECT_EQ(json["malformed_lines"], 1);
}

TEST_F(AuditToolsTest, BadOptionsTimesAndFilesAreUsageErrorsOrNamedFailures) {
  auto unknown = airlock({"audit", "query", log_, "--colour"});
  EXPECT_EQ(unknown.exitCode, 2);
  EXPECT_NE(stderr_.find("unknown option --colour"), std::string::npos) << stderr_;
  auto badTime = airlock({"audit", "query", log_, "--since", "2026-13-01T00:00:00Z"});
  EXPECT_EQ(badTime.exitCode, 2);
  EXPECT_NE(stderr_.find("--since \"2026-13-01T00:00:00Z\" is not a time"), std::string::npos)
      << stderr_;
  auto badDecision = airlock({"audit", "stats", log_, "--decision", "maybe"});
  EXPECT_EQ(badDecision.exitCode, 2);
  auto badBucket = airlock({"audit", "stats", log_, "--bucket", "soon"});
  EXPECT_EQ(badBucket.exitCode, 2);
  EXPECT_NE(stderr_.find("--bucket \"soon\" is not a duration"), std::string::npos) << stderr_;
  auto noValue = airlock({"audit", "query", log_, "--unit"});
  EXPECT_EQ(noValue.exitCode, 2);
  EXPECT_NE(stderr_.find("--unit needs a value"), std::string::npos) << stderr_;
  auto noFile = airlock({"audit", "stats"});
  EXPECT_EQ(noFile.exitCode, 2);

  std::string missing = scratch_.file("missing.jsonl");
  auto unreadable = airlock({"audit", "query", log_, missing});
  EXPECT_EQ(unreadable.exitCode, 1);
  EXPECT_EQ(unreadable.output, "") << "nothing is printed when a file cannot be read";
  EXPECT_EQ(stderr_, missing + ": cannot read: No such file or directory\n");
}

// A path that is not a regular file is named and refused by every tool: never read as an empty
// log (which would verify, or count nothing), never read without end (/dev/zero, a directory),
// never waited on (a FIFO). A log cut to nothing fails verification under a key.
TEST_F(AuditToolsTest, AnythingButARegularFileIsRefusedByNameAndAnEmptyLogDoesNotVerify) {
  std::string fifo = scratch_.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string dir = scratch_.file("dir");
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  for (const std::string& path : {dir, fifo, std::string("/dev/zero")}) {
    for (std::vector<std::string> args :
         {std::vector<std::string>{"audit", "query", path},
          std::vector<std::string>{"audit", "stats", path},
          std::vector<std::string>{"audit", "verify", path},
          std::vector<std::string>{"audit", "tail", path},
          std::vector<std::string>{"audit", "report", "--html", scratch_.file("r.html"), path},
          std::vector<std::string>{"audit", "verify", log_, "--anchor", path}}) {
      auto result = airlock(args);
      EXPECT_EQ(result.exitCode, 1) << args[1] << " " << path << ": " << result.output << stderr_;
      EXPECT_NE((result.output + stderr_).find("not a regular file"), std::string::npos)
          << args[1] << " " << path << ": " << result.output << stderr_;
    }
  }
  scratch_.write("empty.jsonl", "");
  std::string empty = scratch_.file("empty.jsonl");
  auto cut = airlock({"audit", "verify", empty, "--key", broker_->brokerPublicKey()});
  EXPECT_EQ(cut.exitCode, 1) << cut.output << stderr_;
  EXPECT_NE((cut.output + stderr_).find("no checkpoint: the log holds no record"),
            std::string::npos) << cut.output << stderr_;
  auto closed = airlock({"audit", "verify", empty, "--require-closed"});
  EXPECT_EQ(closed.exitCode, 1) << closed.output << stderr_;
}

// airlockd's own rotation: the set, oldest first, reads as one log and its report verifies.
TEST(AuditToolsRotation, ARealRotatedSetQueriesAsOneLogAndItsReportVerifiesAsOne) {
  auto broker = startSampleBroker({"--audit-rotate-bytes", "1500"});
  driveSampleTraffic(*broker, {"/etc/passwd", "/etc/shadow"});
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  std::vector<std::string> files;
  for (auto& entry : std::filesystem::directory_iterator(broker->dir().path())) {
    std::string name = entry.path().filename();
    if (name.rfind("audit.jsonl.", 0) == 0) files.push_back(entry.path());
  }
  ASSERT_GE(files.size(), 2u) << "1500 bytes hold a few records only";
  std::sort(files.begin(), files.end());  // zero-padded first seq: name order is log order
  files.push_back(broker->auditPath());
  std::string all;
  for (auto& file : files) all += readFile(file);

  std::vector<std::string> query = {binDir() + "/airlock", "audit", "query"};
  query.insert(query.end(), files.begin(), files.end());
  auto result = runProgram(query);
  EXPECT_EQ(result.exitCode, 0);
  EXPECT_EQ(result.output, all);

  TempDir out;
  std::vector<std::string> report = {binDir() + "/airlock", "audit", "report", "--html",
                                     out.file("r.html"), "--key", broker->brokerPublicKey()};
  report.insert(report.end(), files.begin(), files.end());
  auto made = runProgram(report);
  EXPECT_EQ(made.exitCode, 0) << made.output;
  EXPECT_NE(made.output.find("verified"), std::string::npos) << made.output;
  auto page = readFile(out.file("r.html"));
  EXPECT_NE(page.find("data-ok=\"true\""), std::string::npos);
  EXPECT_NE(page.find("<span id=\"total-records\">" + std::to_string(lines(all).size()) + "<"),
            std::string::npos);
  EXPECT_NE(page.find("data-event=\"audit.continued\""), std::string::npos);
}

// The --help texts are the reference in docs/cli.md, verbatim.
TEST(AuditToolsHelp, QueryStatsTailAndReportHelpAreInTheDocsVerbatim) {
  std::string docs = readFile(std::string(AIRLOCK_SOURCE_DIR) + "/docs/cli.md");
  for (auto command : {"query", "stats", "tail", "report"}) {
    auto help = runProgram({binDir() + "/airlock", "audit", command, "--help"});
    EXPECT_EQ(help.exitCode, 0);
    EXPECT_NE(help.output.find("usage: airlock audit " + std::string(command)), std::string::npos);
    EXPECT_NE(docs.find(help.output), std::string::npos)
        << "docs/cli.md does not contain:\n" << help.output;
  }
}

}  // namespace
}  // namespace airlock::testing

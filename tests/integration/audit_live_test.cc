// `airlock audit verify` on the log of an airlockd that is still running: intact so far, it
// exits 0 and names the tail no checkpoint signs yet; --require-closed keeps the strict check
// for a log that must have been closed; a forged record in the live log is still found.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

std::vector<std::string> fileLines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(readFile(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class AuditLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerOptions options;
    // Checkpoints by count only, so the unsigned tail is what the test makes it.
    options.extraArgs = {"--checkpoint-ms", "600000", "--checkpoint-every", "5", "--anchor",
                         scratch_.file("anchor.jsonl")};
    broker_ = std::make_unique<BrokerProcess>(std::map<std::string, std::string>{{"probe.toml", R"(
[unit]
name = "probe"
worker = "test-probe_worker"

[[rule]]
id = "tester-calls-probe"
allow = "call"
caller = ["tester"]
method = ["*"]
)"}}, std::map<std::string, std::string>{}, options);
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  RunResult verify(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {binDir() + "/airlock", "audit", "verify",
                                     broker_->auditPath(), "--key", broker_->brokerPublicKey(),
                                     "--anchor", scratch_.file("anchor.jsonl")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return runProgram(argv);
  }

  TempDir scratch_;
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(AuditLiveTest, ARunningBrokersLogVerifiesUpToItsLastCheckpointAndNamesTheUnsignedTail) {
  auto client = broker_->connect();
  // broker.start, worker.spawn, then 2 records a call: a checkpoint after the 5th, 2 after it.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.unit("probe").call("echo", "x").ok());
  auto lines = fileLines(broker_->auditPath());
  size_t lastCheckpoint = 0, checkpoints = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find("\"event\":\"checkpoint\"") == std::string::npos) continue;
    lastCheckpoint = i + 1;
    ++checkpoints;
  }
  ASSERT_GT(lastCheckpoint, 0u) << "a checkpoint every 5 records";
  uint64_t unsignedRecords = lines.size() - lastCheckpoint;
  ASSERT_GT(unsignedRecords, 0u) << "records follow the last checkpoint";

  auto live = verify();
  EXPECT_EQ(live.exitCode, 0) << live.output;
  std::string expectedTail =
      "; open (still being written): " + std::to_string(unsignedRecords) +
      " records after the checkpoint at seq " + std::to_string(lastCheckpoint) +
      " not signed yet (seq " + std::to_string(lastCheckpoint + 1) + ".." +
      std::to_string(lines.size()) + ")";
  EXPECT_EQ(live.output, "ok: " + std::to_string(lines.size()) + " records, " +
                             std::to_string(checkpoints) +
                             " signed checkpoints, chain intact, anchor matches" + expectedTail +
                             "\n");

  auto strict = verify({"--require-closed"});
  EXPECT_EQ(strict.exitCode, 1) << strict.output;
  EXPECT_NE(strict.output.find("not closed cleanly"), std::string::npos) << strict.output;

  // A record forged into the signed part is found whatever the tail.
  {
    auto forged = lines;
    auto at = forged[1].find("\"event\":\"");
    ASSERT_NE(at, std::string::npos);
    forged[1].insert(at, "\"x\":1,");
    std::ofstream out(scratch_.file("copy.jsonl"));
    for (auto& line : forged) out << line << "\n";
  }
  auto doctored = runProgram({binDir() + "/airlock", "audit", "verify", scratch_.file("copy.jsonl"),
                              "--key", broker_->brokerPublicKey()});
  EXPECT_EQ(doctored.exitCode, 1);
  EXPECT_NE(doctored.output.find("modified record"), std::string::npos) << doctored.output;

  // Stopped, the same log is closed: no open tail, and the strict check passes.
  ASSERT_EQ(broker_->stop(), 0);
  auto closed = verify({"--require-closed"});
  EXPECT_EQ(closed.exitCode, 0) << closed.output;
  EXPECT_EQ(closed.output.find("open"), std::string::npos) << closed.output;
  EXPECT_EQ(verify().output, closed.output);
}

TEST_F(AuditLiveTest, ALastLineBeingWrittenIsPartOfTheTailNotACutButACutInTheMiddleIsNot) {
  auto client = broker_->connect();
  ASSERT_TRUE(client.unit("probe").call("echo", "x").ok());
  auto lines = fileLines(broker_->auditPath());
  // A copy as a reader may catch the file mid-write: the last line not yet whole.
  {
    std::ofstream out(scratch_.file("copy.jsonl"));
    for (auto& line : lines) out << line << "\n";
    out << lines.back().substr(0, 10);
  }
  auto copy = runProgram({binDir() + "/airlock", "audit", "verify", scratch_.file("copy.jsonl"),
                          "--key", broker_->brokerPublicKey()});
  EXPECT_EQ(copy.exitCode, 0) << copy.output;
  EXPECT_NE(copy.output.find(", the last line is being written"), std::string::npos)
      << copy.output;
  auto strict = runProgram({binDir() + "/airlock", "audit", "verify", scratch_.file("copy.jsonl"),
                            "--key", broker_->brokerPublicKey(), "--require-closed"});
  EXPECT_EQ(strict.exitCode, 1);
  EXPECT_NE(strict.output.find("tail cut: the last line is incomplete"), std::string::npos);
}

}  // namespace
}  // namespace airlock::testing

// Crash forensics on a real airlockd's log: every record a call causes names its call_id (the
// worker's own brokered syscalls, a syscall its sandbox refused, the exit of the worker that was
// serving it), `airlock audit query` finds them by --call-id, --event, --result and tells one
// call's story in order, and `airlock audit stats` counts how calls ended apart from their
// decision and a crash apart from the SIGKILL airlockd gives every worker at shutdown.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/probe_policy.h"

namespace airlock::testing {
namespace {

std::string field(const nlohmann::json& record, const char* key) {
  return record.contains(key) && record[key].is_string() ? record[key].get<std::string>() : "";
}

class AuditForensicsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<BrokerProcess>(std::map<std::string, std::string>{
        {"probe.toml", probeUnitPolicy(R"(
[[rule]]
id = "data-read"
allow = "fs.open"
path = "${tmp}/data/**"
mode = ["read"]

[sandbox]
broker_syscalls = true
)")},
        {"slow.toml", R"(
[unit]
name = "slow"
worker = "test-probe_worker"
call_timeout_ms = 300

[[rule]]
id = "me-calls-slow"
allow = "call"
caller = ["tester"]
method = ["*"]
)"}});
    mkdir(broker_->dir().file("data").c_str(), 0755);
    broker_->dir().write("data/a.txt", "a");
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
    {
      auto client = broker_->connect();
      ASSERT_TRUE(client.unit("probe").call("read-directly", broker_->dir().file("data/a.txt")).ok());
      ASSERT_TRUE(client.unit("probe").call("read-directly", "/etc/passwd").ok());
      ASSERT_FALSE(client.unit("probe").call("crash", "").ok());
      ASSERT_FALSE(client.unit("probe").call("ptrace", "").ok());
      ASSERT_FALSE(client.unit("slow").call("hang", "").ok());
      ASSERT_TRUE(client.unit("slow").call("echo", "x").ok());
    }
    ASSERT_EQ(broker_->stop(), 0) << broker_->log();
    records_ = broker_->auditRecords();
    std::istringstream in(readFile(broker_->auditPath()));
    for (std::string line; std::getline(in, line);) lines_.push_back(line);
    ASSERT_EQ(lines_.size(), records_.size());
  }

  // The call_id of the `call` record of `method` (the only one in this log).
  std::string callIdOf(const std::string& method) {
    for (auto& r : records_) {
      if (field(r, "event") == "call" && r["args"]["method"] == method) return field(r, "call_id");
    }
    ADD_FAILURE() << "no call record of " << method;
    return "";
  }

  // The worker.exit records naming `callId`.
  std::vector<nlohmann::json> exitsOf(const std::string& callId) {
    std::vector<nlohmann::json> out;
    for (auto& r : records_) {
      if (field(r, "event") == "worker.exit" && field(r, "call_id") == callId) out.push_back(r);
    }
    return out;
  }

  RunResult airlock(std::vector<std::string> args) {
    args.insert(args.begin(), binDir() + "/airlock");
    return runProgram(args);
  }

  std::unique_ptr<BrokerProcess> broker_;
  std::vector<nlohmann::json> records_;
  std::vector<std::string> lines_;
};

TEST_F(AuditForensicsTest, EveryRecordACallCausesNamesItsCallId) {
  std::string crash = callIdOf("crash"), ptrace = callIdOf("ptrace"), hang = callIdOf("hang");
  std::string allowedRead = "", deniedRead = "";
  for (auto& r : records_) {
    if (field(r, "event") != "call" || r["args"]["method"] != "read-directly") continue;
    (allowedRead.empty() ? allowedRead : deniedRead) = field(r, "call_id");
  }
  ASSERT_FALSE(deniedRead.empty());

  // A long-lived worker's own open(2), brokered, belongs to the call it was serving.
  // (The dynamic loader's own look for /etc/ld.so.cache at each worker's start is refused too,
  // outside any call: not what this test is about.)
  std::vector<nlohmann::json> opens;
  for (auto& r : broker_->auditRecords({{"event", "fs.open"}})) {
    if (!std::string(r["args"].value("path", "")).starts_with("/etc/ld.so")) opens.push_back(r);
  }
  ASSERT_EQ(opens.size(), 2u);
  EXPECT_EQ(field(opens[0], "call_id"), allowedRead);
  EXPECT_EQ(field(opens[0], "decision"), "allow");
  EXPECT_EQ(field(opens[1], "call_id"), deniedRead);
  EXPECT_EQ(field(opens[1], "decision"), "deny");
  EXPECT_EQ(field(opens[1], "caller"), "client:tester,uid:" + std::to_string(getuid()));

  // The exits of the workers that were serving a call: a crash, a refused syscall (seccomp),
  // a deadline.
  auto crashed = exitsOf(crash);
  ASSERT_EQ(crashed.size(), 1u);
  EXPECT_EQ(field(crashed[0], "result"), "killed by SIGSEGV");
  EXPECT_EQ(crashed[0]["args"]["cause"], "crashed");
  auto refused = exitsOf(ptrace);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(field(refused[0], "result").find("killed by seccomp: refused syscall ptrace"),
            std::string::npos);
  EXPECT_EQ(refused[0]["args"]["cause"], "crashed");
  auto late = exitsOf(hang);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0]["args"]["cause"], "deadline");
  EXPECT_NE(field(late[0], "reason").find("killed by airlockd: timed out"), std::string::npos);

  // airlockd's SIGKILL at shutdown is no crash, and those workers were serving nothing.
  int shutdowns = 0;
  for (auto& r : records_) {
    if (field(r, "event") != "worker.exit" || r["args"]["cause"] != "shutdown") continue;
    ++shutdowns;
    EXPECT_EQ(field(r, "result"), "killed by SIGKILL");
    EXPECT_FALSE(r.contains("call_id")) << r.dump();
  }
  EXPECT_EQ(shutdowns, 2) << "one worker of each unit was running at the stop";
}

TEST_F(AuditForensicsTest, QueryFiltersByCallIdEventAndResultAndTellsOneCallsStory) {
  std::string crash = callIdOf("crash");
  std::string expected;
  for (size_t i = 0; i < records_.size(); ++i) {
    if (field(records_[i], "call_id") == crash) expected += lines_[i] + "\n";
  }
  auto story = airlock({"audit", "query", broker_->auditPath(), "--call-id", crash, "--story",
                        "--format", "jsonl"});
  ASSERT_EQ(story.exitCode, 0) << story.output;
  EXPECT_EQ(story.output, expected);
  std::istringstream told(story.output);
  std::vector<std::string> events;
  for (std::string line; std::getline(told, line);) {
    events.push_back(field(nlohmann::json::parse(line), "event"));
  }
  EXPECT_EQ(events, (std::vector<std::string>{"call.admitted", "worker.exit", "call"}))
      << "admitted before the worker saw it, the crash, then the answer";

  auto table = airlock({"audit", "query", broker_->auditPath(), "--call-id", crash, "--story"});
  ASSERT_EQ(table.exitCode, 0);
  EXPECT_EQ(table.output.rfind("call " + crash + ", broker run 1:\nTIME", 0), 0u) << table.output;
  EXPECT_NE(table.output.find("killed by SIGSEGV"), std::string::npos);

  auto crashes = airlock({"audit", "query", broker_->auditPath(), "--result", "crashed"});
  ASSERT_EQ(crashes.exitCode, 0);
  std::string crashCalls;
  for (size_t i = 0; i < records_.size(); ++i) {
    if (field(records_[i], "event") == "call" &&
        field(records_[i], "result").rfind("unit crashed", 0) == 0) {
      crashCalls += lines_[i] + "\n";
    }
  }
  EXPECT_EQ(crashes.output, crashCalls);
  EXPECT_EQ(std::count(crashCalls.begin(), crashCalls.end(), '\n'), 2) << "crash and ptrace";

  auto late = airlock({"audit", "query", broker_->auditPath(), "--result", "timed-out",
                       "--event", "call"});
  ASSERT_EQ(late.exitCode, 0);
  EXPECT_EQ(std::count(late.output.begin(), late.output.end(), '\n'), 1) << late.output;
  EXPECT_NE(late.output.find("\"method\":\"hang\""), std::string::npos);

  auto same = airlock({"audit", "query", broker_->auditPath(), "--op", "worker.exit"});
  auto byEvent = airlock({"audit", "query", broker_->auditPath(), "--event", "worker.exit"});
  EXPECT_EQ(same.output, byEvent.output);

  auto bad = airlock({"audit", "query", broker_->auditPath(), "--result", "exploded"});
  EXPECT_EQ(bad.exitCode, 2);
  EXPECT_NE(bad.output.find("--result is one of ok, denied, crashed"), std::string::npos);
  auto noId = airlock({"audit", "query", broker_->auditPath(), "--story"});
  EXPECT_EQ(noId.exitCode, 2);
  EXPECT_NE(noId.output.find("--story needs exactly one --call-id"), std::string::npos);
}

TEST_F(AuditForensicsTest, StatsCountOutcomesApartFromDecisionsAndCrashesApartFromShutdown) {
  auto stats = airlock({"audit", "stats", broker_->auditPath(), "--json"});
  ASSERT_EQ(stats.exitCode, 0) << stats.output;
  auto json = nlohmann::json::parse(stats.output);
  auto probe = json["call_outcomes"]["by_unit"]["probe"];
  EXPECT_EQ(probe["ok"], 2) << probe.dump();
  EXPECT_EQ(probe["crashed"], 2) << "allowed calls that crashed are not counted as ok";
  auto slow = json["call_outcomes"]["by_unit"]["slow"];
  EXPECT_EQ(slow["timed-out"], 1);
  EXPECT_EQ(slow["ok"], 1);
  std::string tester = "client:tester,uid:" + std::to_string(getuid());
  EXPECT_EQ(json["call_outcomes"]["by_caller"][tester]["ok"], 3);
  EXPECT_EQ(json["by_unit"]["probe"]["allowed"].get<int>() > 0, true);

  auto exits = json["worker_exits"]["by_unit"];
  EXPECT_EQ(exits["probe"]["crashed"], 2);
  EXPECT_EQ(exits["probe"]["shutdown"], 1);
  EXPECT_EQ(exits["slow"]["deadline"], 1);
  EXPECT_EQ(exits["slow"]["shutdown"], 1);
  EXPECT_FALSE(exits["slow"].contains("crashed")) << exits.dump();

  auto text = airlock({"audit", "stats", broker_->auditPath()});
  ASSERT_EQ(text.exitCode, 0);
  EXPECT_NE(text.output.find("call outcomes by unit"), std::string::npos);
  EXPECT_NE(text.output.find("worker exits by unit"), std::string::npos);
}

}  // namespace
}  // namespace airlock::testing

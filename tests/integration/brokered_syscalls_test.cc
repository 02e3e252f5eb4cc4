// A unit served by airlockd with [sandbox] broker_syscalls = true: its worker's own open(2)
// calls, made behind the SDK's back as a library makes them, are decided by the unit's fs.*
// rules and recorded like SDK requests, and the worker goes on serving after a refusal.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/probe_policy.h"

namespace airlock::testing {
namespace {

class BrokeredSyscallsTest : public ::testing::Test {
 protected:
  void start(const std::string& sandbox) {
    broker_ = std::make_unique<BrokerProcess>(std::map<std::string, std::string>{
        {"probe.toml", probeUnitPolicy(R"(
[[rule]]
id = "data-read"
allow = "fs.open"
path = "${tmp}/data/**"
mode = ["read"]
)" + sandbox)}});
    auto& dir = broker_->dir();
    mkdir(dir.file("data").c_str(), 0755);
    dir.write("data/hello.txt", "hello from the host\n");
    dir.write("secret.txt", "top secret\n");
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  CallOutcome call(const std::string& method, const std::string& payload) {
    auto client = broker_->connect();
    return client.unit("probe").call(method, payload);
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(BrokeredSyscallsTest, AWorkersOwnOpenIsDecidedByTheRulesAndRecorded) {
  start("\n[sandbox]\nbroker_syscalls = true\n");
  std::string granted = broker_->dir().file("data/hello.txt");
  auto read = call("read-directly", granted);
  ASSERT_TRUE(read.ok()) << read.describe() << "\n" << broker_->log();
  EXPECT_EQ(read.payload(), "hello from the host\n");
  auto opens = broker_->auditRecords({{"event", "fs.open"}, {"rule", "data-read"}});
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0]["args"]["via"], "syscall");
  EXPECT_EQ(opens[0]["args"]["syscall"], "openat");
  EXPECT_EQ(opens[0]["result"], "fd passed");
  EXPECT_GT(opens[0]["worker_pid"].get<int>(), 0);

  for (std::string path : {broker_->dir().file("secret.txt"), broker_->auditPath(),
                           std::string("/etc/passwd")}) {
    auto refused = call("read-directly", path);
    ASSERT_TRUE(refused.ok()) << refused.describe();
    EXPECT_EQ(refused.payload(), "errno EACCES") << path;
    auto denies = broker_->auditRecords({{"event", "fs.open"}, {"decision", "deny"}});
    bool recorded = false;
    for (auto& record : denies) recorded = recorded || record["args"]["path"] == path;
    EXPECT_TRUE(recorded) << path;
  }
  EXPECT_EQ(readFile(broker_->dir().file("secret.txt")), "top secret\n");
  EXPECT_TRUE(call("echo", "still serving").ok());
}

TEST_F(BrokeredSyscallsTest, WithoutTheKeyTheWorkerStillSeesOnlyItsSandbox) {
  start("");
  auto read = call("read-directly", broker_->dir().file("data/hello.txt"));
  ASSERT_TRUE(read.ok()) << read.describe();
  EXPECT_EQ(read.payload(), "errno ENOENT");
  EXPECT_TRUE(broker_->auditRecords({{"event", "fs.open"}}).empty());
}

}  // namespace
}  // namespace airlock::testing

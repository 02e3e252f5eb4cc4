// A unit whose [sandbox] seccomp_profile is a ~360-syscall Docker-format profile: airlockd loads
// it, the worker serves calls with what the profile was granted, and what airlock never grants
// stays refused.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

std::string dockerProfile() {
  std::ifstream in(std::string(AIRLOCK_SOURCE_DIR) + "/tests/data/seccomp/docker-default.json");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

constexpr char POLICY[] = R"(
[unit]
name = "probe"
worker = "test-probe_worker"

[sandbox]
seccomp_profile = "docker-default.json"

[[rule]]
id = "data-read"
allow = "fs.open"
path = "${tmp}/data/**"
mode = ["read"]

[[rule]]
id = "me-calls-probe"
allow = "call"
caller = ["tester"]
method = ["*"]
)";

class SeccompProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string profile = dockerProfile();
    ASSERT_GT(profile.size(), 1000u) << "the test profile is missing";
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"probe.toml", POLICY},
                                           {"docker-default.json", profile}});
    mkdir(broker_->dir().file("data").c_str(), 0755);
    broker_->dir().write("data/hello.txt", "hello from the host\n");
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  CallOutcome call(const std::string& method, const std::string& payload) {
    return broker_->connect().unit("probe").call(method, payload);
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(SeccompProfileTest, AUnitWithADockerProfileServesCallsWithWhatItWasGranted) {
  auto echo = call("echo", "through the profile");
  ASSERT_TRUE(echo.ok()) << echo.describe() << "\n" << broker_->log();
  EXPECT_EQ(echo.payload(), "through the profile");
  auto read = call("read", broker_->dir().file("data/hello.txt"));
  ASSERT_TRUE(read.ok()) << read.describe();
  EXPECT_EQ(read.payload(), "hello from the host\n");
  // statfs is in no default group: only the profile's grant lets it run.
  auto statfs = call("statfs", "/");
  ASSERT_TRUE(statfs.ok()) << statfs.describe() << "\n" << broker_->log();
  EXPECT_EQ(statfs.payload(), "statfs ok");
}

TEST_F(SeccompProfileTest, WhatTheProfileAllowsButAirlockNeverGrantsStaysRefused) {
  // Docker's default allows ptrace from kernel 4.8; a worker never gets it.
  auto outcome = call("ptrace", "");
  ASSERT_EQ(outcome.errorKind(), CallErrorKind::UNIT_CRASHED) << outcome.describe();
  EXPECT_NE(outcome.message().find("refused syscall ptrace("), std::string::npos)
      << outcome.message();
  auto exit = broker_->waitForRecord({{"event", "worker.exit"}});
  ASSERT_FALSE(exit.is_null());
  EXPECT_NE(exit["result"].get<std::string>().find("killed by seccomp: refused syscall ptrace("),
            std::string::npos)
      << exit.dump();
  auto next = call("echo", "after the refusal");
  ASSERT_TRUE(next.ok()) << next.describe();
}

// A dangerous group is a widened sandbox on record: the worker's spawn names it and the reason.
TEST(DangerousGroupTest, AWorkerWithADangerousGroupSaysSoInItsSpawnRecord) {
  BrokerProcess broker(std::map<std::string, std::string>{{"probe.toml", R"(
[unit]
name = "probe"
worker = "test-probe_worker"

[sandbox]
syscalls = ["executable-memory"]
justification = "the decoder's JIT writes its code"

[[rule]]
id = "me-calls-probe"
allow = "call"
caller = ["tester"]
method = ["*"]
)"}});
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  auto spawn = broker.waitForRecord({{"event", "worker.spawn"}});
  ASSERT_FALSE(spawn.is_null()) << broker.log();
  EXPECT_EQ(spawn["args"]["dangerous_groups"], nlohmann::json::array({"executable-memory"}));
  EXPECT_NE(spawn["reason"].get<std::string>().find("the decoder's JIT writes its code"),
            std::string::npos)
      << spawn;
  EXPECT_NE(broker.log().find("sandbox widened by [sandbox] syscalls"), std::string::npos);
}

}  // namespace
}  // namespace airlock::testing

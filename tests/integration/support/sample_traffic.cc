#include "tests/integration/support/sample_traffic.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "sdk/host/client.h"

namespace airlock::testing {

std::unique_ptr<BrokerProcess> startSampleBroker(std::vector<std::string> extraArgs) {
  const std::string policy = R"(
[unit]
name = "probe"
worker = "test-probe_worker"

[[rule]]
id = "data-read"
allow = "fs.open"
path = "${tmp}/data/**"
mode = ["read"]

[[rule]]
id = "tester-calls-probe"
allow = "call"
caller = ["tester"]
method = ["*"]

[[rule]]
id = "intruder-may-echo"
allow = "call"
caller = ["intruder"]
method = ["echo"]
)";
  BrokerOptions options;
  options.clients = {TEST_CLIENT, "intruder"};
  options.extraArgs = kj::mv(extraArgs);
  auto broker = std::make_unique<BrokerProcess>(
      std::map<std::string, std::string>{{"probe.toml", policy}},
      std::map<std::string, std::string>{}, options);
  mkdir(broker->dir().file("data").c_str(), 0755);
  broker->dir().write("data/a.txt", "a");
  EXPECT_TRUE(broker->waitUntilReady()) << broker->log();
  return broker;
}

void driveSampleTraffic(BrokerProcess& broker, const std::vector<std::string>& deniedPaths) {
  {
    auto client = broker.connect();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(client.unit("probe").call("read", broker.dir().file("data/a.txt")).ok());
    }
    for (auto& path : deniedPaths) {
      ASSERT_FALSE(client.unit("probe").call("read", path).ok()) << path;
    }
    ASSERT_FALSE(client.unit("probe").call("crash", "").ok());
  }
  {
    // One client at a time: each runs its own event loop on this thread.
    auto intruder = broker.connect("intruder");
    ASSERT_TRUE(intruder.unit("probe").call("echo", "x").ok());
    for (int i = 0; i < 2; ++i) ASSERT_FALSE(intruder.unit("probe").call("read", "x").ok());
  }
  ASSERT_EQ(broker.stop(), 0) << broker.log();
}

}  // namespace airlock::testing

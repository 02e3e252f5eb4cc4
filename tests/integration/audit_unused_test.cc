// `airlock audit unused` on a real airlockd's policies and log: the rule that decided nothing,
// the fs grant of a whole tree that was only ever used below one directory, and the call rule
// allowing every method of which one was called — each with its evidence and a narrower grant.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

TEST(AuditUnused, NamesTheUnusedRuleAndTheGrantsWiderThanWhatWasUsed) {
  BrokerProcess broker(std::map<std::string, std::string>{{"probe.toml", R"(
[unit]
name = "probe"
worker = "test-probe_worker"

[[rule]]
id = "srv-read"
allow = "fs.open"
path = "${tmp}/srv/**"
mode = ["read"]

[[rule]]
id = "db-password"
allow = "secrets.get"
name = ["db-password"]

[[rule]]
id = "tester-calls-probe"
allow = "call"
caller = ["tester"]
method = ["*"]
)"}});
  mkdir(broker.dir().file("srv").c_str(), 0755);
  mkdir(broker.dir().file("srv/images").c_str(), 0755);
  mkdir(broker.dir().file("srv/images/2026").c_str(), 0755);
  broker.dir().write("srv/images/a.png", "a");
  broker.dir().write("srv/images/2026/b.png", "b");
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  {
    auto client = broker.connect();
    ASSERT_TRUE(client.unit("probe").call("read", broker.dir().file("srv/images/a.png")).ok());
    ASSERT_TRUE(client.unit("probe").call("read", broker.dir().file("srv/images/2026/b.png")).ok());
  }
  ASSERT_EQ(broker.stop(), 0);
  auto records = broker.auditRecords();

  auto text = runProgram({binDir() + "/airlock", "audit", "unused", "--policies",
                          broker.dir().file("policies"), broker.auditPath()});
  ASSERT_EQ(text.exitCode, 0) << text.output;
  EXPECT_NE(text.output.find("unit probe:\n"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("  unused     rule \"db-password\""), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("narrower: path = \"" + broker.dir().file("srv/images") + "/**\""),
            std::string::npos) << text.output;
  EXPECT_NE(text.output.find("narrower: method = [\"read\"]"), std::string::npos) << text.output;

  auto json = runProgram({binDir() + "/airlock", "audit", "unused", "--policies",
                          broker.dir().file("policies"), broker.auditPath(), "--json"});
  ASSERT_EQ(json.exitCode, 0) << json.output;
  auto out = nlohmann::json::parse(json.output);
  EXPECT_EQ(out["records"], records.size());
  std::map<std::string, nlohmann::json> byRule;
  for (auto& rule : out["units"]["probe"]) byRule[rule["rule"]] = rule;
  EXPECT_EQ(byRule["db-password"]["finding"], "unused");
  auto srv = byRule["srv-read"];
  EXPECT_EQ(srv["finding"], "over-broad");
  EXPECT_EQ(srv["allowed"], 2);
  EXPECT_EQ(srv["used_under"], broker.dir().file("srv/images"));
  uint64_t firstOpen = 0, lastOpen = 0;
  for (auto& r : records) {
    if (r.value("rule", "") != "srv-read") continue;
    if (firstOpen == 0) firstOpen = r["seq"];
    lastOpen = r["seq"];
  }
  EXPECT_EQ(srv["first_seq"], firstOpen);
  EXPECT_EQ(srv["last_seq"], lastOpen);
  EXPECT_EQ(byRule["tester-calls-probe"]["methods_called"], nlohmann::json({"read"}));

  auto noPolicies = runProgram({binDir() + "/airlock", "audit", "unused", broker.auditPath()});
  EXPECT_EQ(noPolicies.exitCode, 2);
  EXPECT_NE(noPolicies.output.find("--policies DIR is required"), std::string::npos);
}

}  // namespace
}  // namespace airlock::testing

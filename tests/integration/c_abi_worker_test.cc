// A worker written in C (c_abi/c_abi_worker.c) on the worker side of the C ABI
// (sdk/c/airlock_worker.h), started sandboxed by a real airlockd and called by the C++ host SDK:
// answers, failures, a brokered fs.open decided and recorded by the unit's rules.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <string>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

constexpr char C_WORKER_POLICY[] = R"(
[unit]
name = "cworker"
worker = "test-c_abi_worker"
call_timeout_ms = 60000

[[rule]]
id = "tester-calls-cworker"
allow = "call"
caller = ["tester"]
method = ["echo", "read", "silent", "log"]

[[rule]]
id = "reads-files"
allow = "fs.open"
path = "${tmp}/files/**"
mode = ["read"]
)";

TEST(CAbiWorkerTest, AWorkerInCServesByCallbackAndOpensOnlyWhatItsRulesAllow) {
  BrokerProcess broker(std::map<std::string, std::string>{{"cworker.toml", C_WORKER_POLICY}});
  mkdir(broker.dir().file("files").c_str(), 0755);
  broker.dir().write("files/note.txt", "brokered bytes");
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  auto client = broker.connect();
  auto unit = client.unit("cworker");

  auto echoed = unit.call("echo", std::string("from C\0with a NUL", 17));
  ASSERT_TRUE(echoed.ok()) << echoed.describe() << "\n" << broker.log();
  EXPECT_EQ(echoed.payload(), std::string("from C\0with a NUL", 17));

  auto read = unit.call("read", broker.dir().file("files/note.txt"));
  ASSERT_TRUE(read.ok()) << read.describe();
  EXPECT_EQ(read.payload(), "brokered bytes");

  auto refused = unit.call("read", broker.dir().file("secret.txt"));
  EXPECT_EQ(refused.errorKind(), CallErrorKind::WORKER_FAILED) << refused.describe();
  EXPECT_EQ(refused.message().rfind("denied: ", 0), 0u) << refused.message();
  auto opens = broker.auditRecords({{"event", "fs.open"}, {"decision", "deny"}});
  ASSERT_EQ(opens.size(), 1u) << broker.log();
  EXPECT_EQ(opens[0]["args"]["path"], broker.dir().file("secret.txt"));

  auto missing = unit.call("read", broker.dir().file("files/absent.txt"));
  EXPECT_EQ(missing.errorKind(), CallErrorKind::WORKER_FAILED);
  EXPECT_EQ(missing.message().rfind("failed: ", 0), 0u) << missing.message();

  auto silent = unit.call("silent", "");
  EXPECT_EQ(silent.errorKind(), CallErrorKind::WORKER_FAILED);
  EXPECT_NE(silent.message().find("the method gave no answer"), std::string::npos)
      << silent.message();

  auto logged = unit.call("log", "a line from a worker in C");
  EXPECT_TRUE(logged.ok()) << logged.describe();
  EXPECT_EQ(logged.payload(), "logged");
}

}  // namespace
}  // namespace airlock::testing

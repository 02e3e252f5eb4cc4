// A worker written in C (c_abi/c_abi_worker.c) on the worker side of the C ABI
// (sdk/c/airlock_worker.h), started sandboxed by a real airlockd and called by the C++ host SDK:
// answers, failures, a brokered fs.open decided and recorded by the unit's rules.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <string>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/echo_server.h"
#include "tests/integration/support/foreign_hosts.h"

namespace airlock::testing {
namespace {

const std::string C_WORKER_POLICY = R"(
[unit]
name = "cworker"
worker = "test-c_abi_worker"
call_timeout_ms = 60000

[[rule]]
id = "tester-calls-cworker"
allow = "call"
caller = ["tester"]
method = ["echo", "read", "silent", "log", "secret", "connect", "connect-unix", "invoke",
          "pulled", "pulled-silent"]

[[rule]]
id = "reads-files"
allow = "fs.open"
path = "${tmp}/files/**"
mode = ["read"]

[[rule]]
id = "db-secret"
allow = "secrets.get"
name = ["db-password"]
)";

std::string netRule(uint16_t port, const std::string& unixPath) {
  return "\n[[rule]]\nid = \"echo-tcp\"\nallow = \"net.connect\"\nhost = [\"127.0.0.1\"]\nport = [" +
         std::to_string(port) + "]\n\n[[rule]]\nid = \"echo-unix\"\nallow = \"net.connect\"\n"
         "unix_path = \"" + unixPath + "\"\n";
}

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

  // The pull form (airlock_worker_next), which this worker serves with: a pulled call answered,
  // one released unanswered; the callback methods above ran inside the same loop.
  auto pulled = unit.call("pulled", "by hand");
  ASSERT_TRUE(pulled.ok()) << pulled.describe();
  EXPECT_EQ(pulled.payload(), "pulled:by hand");
  auto unanswered = unit.call("pulled-silent", "");
  EXPECT_EQ(unanswered.errorKind(), CallErrorKind::WORKER_FAILED);
  EXPECT_NE(unanswered.message().find("the method gave no answer"), std::string::npos)
      << unanswered.message();
}

TEST(CAbiWorkerTest, AWorkerInCGetsItsSecretAndBrokeredSocketsAndNothingElse) {
  TempDir secrets, sockets;
  secrets.write("db-password", std::string("s3cret\0bytes", 12));
  secrets.write("other", "not granted");
  for (auto name : {"db-password", "other"}) {
    ASSERT_EQ(chmod(secrets.file(name).c_str(), 0600), 0);
  }
  auto tcp = EchoServer::tcp();
  auto unixEcho = EchoServer::unix(sockets.file("echo.sock"));
  BrokerOptions options;
  options.extraArgs = {"--secrets", secrets.path()};
  BrokerProcess broker(
      std::map<std::string, std::string>{
          {"cworker.toml", C_WORKER_POLICY + netRule(tcp.port(), sockets.file("echo.sock"))}},
      {}, options);
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  auto client = broker.connect();
  auto unit = client.unit("cworker");

  auto secret = unit.call("secret", "db-password");
  ASSERT_TRUE(secret.ok()) << secret.describe() << "\n" << broker.log();
  EXPECT_EQ(secret.payload(), std::string("s3cret\0bytes", 12));
  auto other = unit.call("secret", "other");
  EXPECT_EQ(other.errorKind(), CallErrorKind::WORKER_FAILED);
  EXPECT_EQ(other.message().rfind("denied: ", 0), 0u) << other.message();
  EXPECT_EQ(other.message().find("not granted"), std::string::npos) << "the value leaked";

  auto viaTcp = unit.call("connect", "127.0.0.1\n" + std::to_string(tcp.port()) + "\nover tcp");
  ASSERT_TRUE(viaTcp.ok()) << viaTcp.describe();
  EXPECT_EQ(viaTcp.payload(), "over tcp");
  EXPECT_EQ(tcp.accepted(), 1);
  auto viaUnix = unit.call("connect-unix", sockets.file("echo.sock") + "\nover unix");
  ASSERT_TRUE(viaUnix.ok()) << viaUnix.describe();
  EXPECT_EQ(viaUnix.payload(), "over unix");
  auto elsewhere = unit.call("connect", "127.0.0.1\n1\nx");
  EXPECT_EQ(elsewhere.message().rfind("denied: ", 0), 0u) << elsewhere.describe();

  auto gets = broker.auditRecords({{"event", "secrets.get"}});
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(gets[0]["decision"], "allow");
  EXPECT_EQ(gets[1]["decision"], "deny");
  auto connects = broker.auditRecords({{"event", "net.connect"}});
  ASSERT_EQ(connects.size(), 3u);
  EXPECT_EQ(connects[2]["decision"], "deny");
}

TEST(CAbiWorkerTest, AWorkerInCInvokesAnotherUnitAsItsRulesAllowAndNoFurther) {
  std::string invokeRule = R"(
[[rule]]
id = "cworker-invokes-probe"
allow = "invoke"
unit = ["probe"]
method = ["echo", "crash"]
)";
  std::string probe = probeUnitWith(R"(
[[rule]]
id = "cworker-calls-probe"
allow = "call"
caller_unit = ["cworker"]
method = ["echo", "crash"]
)");
  BrokerProcess broker(std::map<std::string, std::string>{
      {"cworker.toml", C_WORKER_POLICY + invokeRule}, {"probe.toml", probe}});
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  auto client = broker.connect();
  auto unit = client.unit("cworker");

  auto echoed = unit.call("invoke", "probe\necho\nnested hello");
  ASSERT_TRUE(echoed.ok()) << echoed.describe() << "\n" << broker.log();
  EXPECT_EQ(echoed.payload(), "ok:nested hello");
  auto refused = unit.call("invoke", "probe\nread\n/etc/passwd");
  EXPECT_EQ(refused.message().rfind("denied: ", 0), 0u) << refused.describe();
  auto crashed = unit.call("invoke", "probe\ncrash\n");
  EXPECT_EQ(crashed.message().rfind("no answer: ", 0), 0u) << crashed.describe();
  auto invokes = broker.auditRecords({{"event", "invoke"}});
  ASSERT_EQ(invokes.size(), 3u) << broker.log();
  EXPECT_EQ(invokes[0]["decision"], "allow");
  EXPECT_EQ(invokes[0]["rule"], "cworker-invokes-probe");
  EXPECT_EQ(invokes[0]["args"]["method"], "echo");
  EXPECT_EQ(invokes[1]["decision"], "deny");
  EXPECT_EQ(invokes[1]["args"]["method"], "read");
}

}  // namespace
}  // namespace airlock::testing

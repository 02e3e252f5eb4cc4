// net.connect through a real airlockd and the sandboxed probe worker: loopback listeners this
// test starts itself, the socket the broker passes used for a real echo round trip inside the
// sandbox, every refusal with its audit record, and the worker's own socket(2) still refused.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/probe_policy.h"
#include "tests/integration/support/echo_server.h"

namespace airlock::testing {
namespace {

std::string tcpRule(const std::string& id, const std::string& effect, const std::string& hosts,
                    const std::string& ports) {
  return "\n[[rule]]\nid = \"" + id + "\"\n" + effect + " = \"net.connect\"\nhost = [" + hosts +
         "]\nport = [" + ports + "]\n";
}

std::string unixRule(const std::string& id, const std::string& pattern) {
  return "\n[[rule]]\nid = \"" + id + "\"\nallow = \"net.connect\"\nunix_path = \"" + pattern +
         "\"\n";
}

std::string connectPayload(const std::string& host, uint16_t port, const std::string& data) {
  return host + "\n" + std::to_string(port) + "\n" + data;
}

bool listed(const nlohmann::json& list, const std::string& value) {
  return list.is_array() && std::find(list.begin(), list.end(), value) != list.end();
}

class NetConnectTest : public ::testing::Test {
 protected:
  // Starts airlockd on `rules`; ${sockets} is a directory of this test, made before the broker
  // opens the roots of unix_path rules.
  void start(const std::string& rules) {
    ASSERT_EQ(mkdir(sockets_.file("granted").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(sockets_.file("private").c_str(), 0755), 0);
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"probe.toml", probeUnitPolicy(rules)}},
        std::map<std::string, std::string>{{"sockets", sockets_.path()}});
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  CallOutcome call(const std::string& method, const std::string& payload) {
    auto client = broker_->connect();
    return client.unit("probe").call(method, payload);
  }

  // The one net.connect record written so far.
  nlohmann::json onlyConnectRecord() {
    auto records = broker_->auditRecords({{"event", "net.connect"}});
    EXPECT_EQ(records.size(), 1u);
    return records.empty() ? nlohmann::json() : records[0];
  }

  TempDir sockets_;
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(NetConnectTest, AnAllowedConnectPassesASocketTheWorkerUsesForAnEchoRoundTrip) {
  auto echo = EchoServer::tcp();
  start(tcpRule("echo-server", "allow", "\"127.0.0.1\"", std::to_string(echo.port())));
  auto outcome = call("connect", connectPayload("127.0.0.1", echo.port(), "ping through the broker"));
  ASSERT_TRUE(outcome.ok()) << outcome.describe() << "\n" << broker_->log();
  EXPECT_EQ(outcome.payload(), "ping through the broker");
  EXPECT_EQ(echo.accepted(), 1);

  auto record = onlyConnectRecord();
  EXPECT_EQ(record["decision"], "allow");
  EXPECT_EQ(record["rule"], "echo-server");
  EXPECT_EQ(record["args"]["host"], "127.0.0.1");
  EXPECT_EQ(record["args"]["port"], echo.port());
  EXPECT_EQ(record["args"]["address"], "127.0.0.1");
  EXPECT_EQ(record["result"], "socket passed");
  auto calls = broker_->auditRecords({{"event", "call"}});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(record["call_id"], calls[0]["call_id"]) << "the connect is tied to its call";
}

TEST_F(NetConnectTest, AHostNoRuleListsIsDeniedAndNothingConnects) {
  auto echo = EchoServer::tcp();
  start(tcpRule("elsewhere", "allow", "\"10.1.2.3\", \"db.internal\"", std::to_string(echo.port())));
  auto outcome = call("connect", connectPayload("127.0.0.1", echo.port(), "x"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.message().find("DENIED: denied by rule default-deny"), std::string::npos)
      << outcome.message();
  EXPECT_EQ(echo.accepted(), 0);
  auto record = onlyConnectRecord();
  EXPECT_EQ(record["decision"], "deny");
  EXPECT_EQ(record["rule"], "default-deny");
  EXPECT_EQ(record["result"], "refused");
  EXPECT_TRUE(listed(record["args"]["refused_addresses"], "127.0.0.1")) << record.dump();
}

TEST_F(NetConnectTest, APortNoRuleListsIsDeniedWithoutResolvingTheName) {
  auto echo = EchoServer::tcp();
  uint16_t other = echo.port() == 65535 ? 1 : echo.port() + 1;
  start(tcpRule("other-port", "allow", "\"localhost\", \"127.0.0.0/8\"", std::to_string(other)));
  auto outcome = call("connect", connectPayload("localhost", echo.port(), "x"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.message().find("DENIED"), std::string::npos) << outcome.message();
  EXPECT_EQ(echo.accepted(), 0);
  auto record = onlyConnectRecord();
  EXPECT_EQ(record["decision"], "deny");
  EXPECT_EQ(record["rule"], "default-deny");
  EXPECT_FALSE(record["args"].contains("addresses")) << "no lookup for a request no rule allows";
}

TEST_F(NetConnectTest, ANameResolvingOnlyToAddressesOutsideTheAllowedBlockIsRefused) {
  auto echo = EchoServer::tcp();
  start(tcpRule("private-net", "allow", "\"10.0.0.0/8\"", std::to_string(echo.port())));
  // localhost is listed nowhere by name, and resolves (from /etc/hosts) to loopback only.
  auto outcome = call("connect", connectPayload("localhost", echo.port(), "x"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.message().find("DENIED"), std::string::npos) << outcome.message();
  EXPECT_EQ(echo.accepted(), 0);
  auto record = onlyConnectRecord();
  EXPECT_EQ(record["decision"], "deny");
  EXPECT_EQ(record["rule"], "default-deny");
  EXPECT_TRUE(listed(record["args"]["addresses"], "127.0.0.1")) << record.dump();
  EXPECT_TRUE(listed(record["args"]["refused_addresses"], "127.0.0.1")) << record.dump();
  EXPECT_FALSE(record["args"].contains("address")) << "no address was dialled";
}

TEST_F(NetConnectTest, AListedNameIsResolvedAndDialledUntilAnAllowedAddressAnswers) {
  auto echo = EchoServer::tcp();
  start(tcpRule("by-name", "allow", "\"localhost\"", std::to_string(echo.port())));
  auto outcome = call("connect", connectPayload("localhost", echo.port(), "by name"));
  ASSERT_TRUE(outcome.ok()) << outcome.describe() << "\n" << broker_->log();
  EXPECT_EQ(outcome.payload(), "by name");
  auto record = onlyConnectRecord();
  EXPECT_EQ(record["rule"], "by-name");
  EXPECT_EQ(record["args"]["address"], "127.0.0.1");
}

TEST_F(NetConnectTest, ACidrBlockAllowsAnAddressInside) {
  auto echo = EchoServer::tcp();
  std::string range = "\"" + std::to_string(echo.port()) + "-" + std::to_string(echo.port()) + "\"";
  start(tcpRule("loopback-block", "allow", "\"127.0.0.0/8\"", range));
  auto outcome = call("connect", connectPayload("127.0.0.1", echo.port(), "in the block"));
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_EQ(outcome.payload(), "in the block");
  auto record = onlyConnectRecord();
  EXPECT_EQ(record["rule"], "loopback-block");
  EXPECT_NE(record["reason"].get<std::string>().find("address 127.0.0.1 in 127.0.0.0/8"),
            std::string::npos)
      << record.dump();
}

TEST_F(NetConnectTest, AMoreSpecificDenyBeatsAWiderAllowAndDenyWinsATie) {
  auto echo = EchoServer::tcp();
  std::string port = std::to_string(echo.port());
  start(tcpRule("loopback-block", "allow", "\"127.0.0.0/8\"", port) +
        tcpRule("not-this-one", "deny", "\"127.0.0.1\"", port) +
        tcpRule("tied-allow", "allow", "\"127.0.0.2/32\"", port) +
        tcpRule("tied-deny", "deny", "\"127.0.0.2\"", port));
  auto outcome = call("connect", connectPayload("127.0.0.1", echo.port(), "x"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.message().find("denied by rule not-this-one"), std::string::npos)
      << outcome.message();
  auto tie = call("connect", connectPayload("127.0.0.2", echo.port(), "x"));
  ASSERT_FALSE(tie.ok());
  EXPECT_NE(tie.message().find("deny wins the tie"), std::string::npos) << tie.message();
  EXPECT_EQ(echo.accepted(), 0);
  auto records = broker_->auditRecords({{"event", "net.connect"}});
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["rule"], "not-this-one");
  EXPECT_EQ(records[1]["rule"], "tied-deny");
}

TEST_F(NetConnectTest, TheUnspecifiedAddressAndEverySpellingOfLoopbackAreRefusedAndAudited) {
  // Listeners on both loopbacks: connect(2) to 0.0.0.0 reaches 127.0.0.1, and to :: reaches ::1.
  auto echo = EchoServer::tcp();
  auto echo6 = EchoServer::tcp6();
  std::string ports = std::to_string(echo.port()) + ", " + std::to_string(echo6.port());
  start(tcpRule("internet", "allow", "\"0.0.0.0/0\", \"::/0\"", ports) +
        "justification = \"a unit that may reach anything but its own host\"\n" +
        tcpRule("no-loopback", "deny", "\"127.0.0.0/8\", \"::1\"", ports));
  struct Case {
    std::string host;
    uint16_t port;
    std::string rule, reason;  // the deciding rule and a piece of its reason
  } cases[] = {
      {"0.0.0.0", echo.port(), "default-deny", "0.0.0.0/8 is \"this host\""},
      {"0", echo.port(), "default-deny", "connect(2) to 0.0.0.0 reaches the local host"},
      {"0.0", echo.port(), "default-deny", "0.0.0.0/8"},
      {"0x0", echo.port(), "default-deny", "0.0.0.0/8"},
      {"::ffff:0.0.0.0", echo.port(), "default-deny", "0.0.0.0/8"},
      {"::", echo6.port(), "default-deny", "the unspecified address ::"},
      {"0:0:0:0:0:0:0:0", echo6.port(), "default-deny", "the unspecified address ::"},
      {"::127.0.0.1", echo.port(), "default-deny", "IPv4-compatible address"},
      {"127.0.0.1.", echo.port(), "default-deny", "no trailing dot"},
      {"127.1", echo.port(), "no-loopback", "address 127.0.0.1 in 127.0.0.0/8"},
      {"0x7f.1", echo.port(), "no-loopback", "address 127.0.0.1 in 127.0.0.0/8"},
      {"0x7f000001", echo.port(), "no-loopback", "address 127.0.0.1 in 127.0.0.0/8"},
      {"017700000001", echo.port(), "no-loopback", "address 127.0.0.1 in 127.0.0.0/8"},
      {"2130706433", echo.port(), "no-loopback", "address 127.0.0.1 in 127.0.0.0/8"},
      {"::ffff:127.0.0.1", echo.port(), "no-loopback", "address 127.0.0.1 in 127.0.0.0/8"},
      {"64:ff9b::7f00:1", echo.port(), "no-loopback", "reaches IPv4 127.0.0.1"},
      {"::1", echo6.port(), "no-loopback", "address ::1 in ::1/128"},
  };
  for (const Case& c : cases) {
    auto outcome = call("connect", connectPayload(c.host, c.port, "x"));
    ASSERT_FALSE(outcome.ok()) << c.host << " reached the local host: " << outcome.describe();
    EXPECT_NE(outcome.message().find("DENIED: denied by rule " + c.rule), std::string::npos)
        << c.host << ": " << outcome.message();
  }
  EXPECT_EQ(echo.accepted(), 0);
  EXPECT_EQ(echo6.accepted(), 0);
  auto records = broker_->auditRecords({{"event", "net.connect"}});
  ASSERT_EQ(records.size(), std::size(cases));
  for (size_t i = 0; i < records.size(); ++i) {
    const Case& c = cases[i];
    EXPECT_EQ(records[i]["args"]["host"], c.host);
    EXPECT_EQ(records[i]["decision"], "deny") << records[i].dump();
    EXPECT_EQ(records[i]["rule"], c.rule) << records[i].dump();
    EXPECT_EQ(records[i]["result"], "refused") << records[i].dump();
    EXPECT_NE(records[i]["reason"].get<std::string>().find(c.reason), std::string::npos)
        << records[i].dump();
    EXPECT_FALSE(records[i]["args"].contains("address")) << "nothing was dialled: "
                                                         << records[i].dump();
  }
}

TEST_F(NetConnectTest, AHostNameDeniedInLowercaseIsDeniedInAnyCase) {
  auto echo = EchoServer::tcp();
  std::string port = std::to_string(echo.port());
  start(tcpRule("loopback", "allow", "\"127.0.0.0/8\"", port) +
        tcpRule("not-by-name", "deny", "\"localhost\"", port));
  for (const std::string host : {"localhost", "LOCALHOST", "LocalHost", "localhost."}) {
    auto outcome = call("connect", connectPayload(host, echo.port(), "x"));
    ASSERT_FALSE(outcome.ok()) << host << " was connected: " << outcome.describe();
    EXPECT_NE(outcome.message().find("DENIED"), std::string::npos) << outcome.message();
  }
  EXPECT_EQ(echo.accepted(), 0);
  auto records = broker_->auditRecords({{"event", "net.connect"}});
  ASSERT_EQ(records.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(records[i]["rule"], "not-by-name") << records[i].dump();
    EXPECT_NE(records[i]["reason"].get<std::string>().find("host localhost listed"),
              std::string::npos)
        << records[i].dump();
  }
  EXPECT_EQ(records[3]["rule"], "default-deny");
  EXPECT_NE(records[3]["reason"].get<std::string>().find("no trailing dot"), std::string::npos)
      << records[3].dump();
  // The block itself is open: the same listener answers its address.
  auto control = call("connect", connectPayload("127.0.0.1", echo.port(), "by address"));
  ASSERT_TRUE(control.ok()) << control.describe();
  EXPECT_EQ(control.payload(), "by address");
  EXPECT_EQ(echo.accepted(), 1);
}

TEST_F(NetConnectTest, AnAllowedConnectThePeerRefusesIsAnAuditedFailureNotADenial) {
  RefusingPort refusing;
  start(tcpRule("refusing", "allow", "\"127.0.0.1\"", std::to_string(refusing.port())));
  auto outcome = call("connect", connectPayload("127.0.0.1", refusing.port(), "x"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.message().find("FAILED: "), std::string::npos) << outcome.message();
  EXPECT_NE(outcome.message().find("ECONNREFUSED"), std::string::npos) << outcome.message();
  auto record = onlyConnectRecord();
  EXPECT_EQ(record["decision"], "allow");
  EXPECT_EQ(record["rule"], "refusing");
  EXPECT_NE(record["result"].get<std::string>().find("ECONNREFUSED"), std::string::npos)
      << record.dump();
}

TEST_F(NetConnectTest, AnAllowedUnixSocketIsConnectedAndUsed) {
  start(unixRule("granted-sockets", "${sockets}/granted/*.sock"));
  auto echo = EchoServer::unix(sockets_.file("granted/echo.sock"));
  auto outcome = call("connect-unix", sockets_.file("granted/echo.sock") + "\nover a unix socket");
  ASSERT_TRUE(outcome.ok()) << outcome.describe() << "\n" << broker_->log();
  EXPECT_EQ(outcome.payload(), "over a unix socket");
  EXPECT_EQ(echo.accepted(), 1);
  auto record = onlyConnectRecord();
  EXPECT_EQ(record["decision"], "allow");
  EXPECT_EQ(record["rule"], "granted-sockets");
  EXPECT_EQ(record["args"]["unix_path"], sockets_.file("granted/echo.sock"));
  EXPECT_EQ(record["result"], "socket passed");
}

TEST_F(NetConnectTest, AUnixSocketOutsideTheGrantIsDenied) {
  start(unixRule("granted-sockets", "${sockets}/granted/*.sock"));
  auto echo = EchoServer::unix(sockets_.file("private/echo.sock"));
  auto outcome = call("connect-unix", sockets_.file("private/echo.sock") + "\nx");
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.message().find("DENIED: denied by rule default-deny"), std::string::npos)
      << outcome.message();
  EXPECT_EQ(echo.accepted(), 0);
  auto record = onlyConnectRecord();
  EXPECT_EQ(record["decision"], "deny");
  EXPECT_EQ(record["rule"], "default-deny");
}

TEST_F(NetConnectTest, ASymlinkPlantedOnAGrantedUnixPathIsRefusedAndItsTargetNeverReached) {
  start(unixRule("granted-sockets", "${sockets}/granted/*.sock"));
  auto echo = EchoServer::unix(sockets_.file("private/echo.sock"));
  ASSERT_EQ(symlink(sockets_.file("private/echo.sock").c_str(),
                    sockets_.file("granted/planted.sock").c_str()),
            0);
  auto outcome = call("connect-unix", sockets_.file("granted/planted.sock") + "\nx");
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.message().find("DENIED: denied by rule granted-sockets"), std::string::npos)
      << outcome.message();
  EXPECT_EQ(echo.accepted(), 0) << "connect(2) by path would have followed the link";
  auto record = onlyConnectRecord();
  EXPECT_EQ(record["decision"], "deny");
  EXPECT_EQ(record["rule"], "granted-sockets");
  EXPECT_NE(record["reason"].get<std::string>().find("ELOOP"), std::string::npos) << record.dump();
}

TEST_F(NetConnectTest, AWorkerHoldingANetGrantStillCannotCreateASocketItself) {
  auto echo = EchoServer::tcp();
  start(tcpRule("echo-server", "allow", "\"127.0.0.1\"", std::to_string(echo.port())));
  auto outcome = call("socket-directly", "");
  ASSERT_EQ(outcome.errorKind(), CallErrorKind::UNIT_CRASHED) << outcome.describe();
  EXPECT_NE(outcome.message().find("refused syscall socket(0x2"), std::string::npos)
      << outcome.message();
  EXPECT_EQ(echo.accepted(), 0);
}

TEST_F(NetConnectTest, AUnitWithoutANetRuleGetsANullNetCapability) {
  auto echo = EchoServer::tcp();
  start("");
  auto outcome = call("connect", connectPayload("127.0.0.1", echo.port(), "x"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.errorKind(), CallErrorKind::WORKER_FAILED);
  EXPECT_NE(outcome.message().find("grants no network"), std::string::npos) << outcome.message();
  EXPECT_TRUE(broker_->auditRecords({{"event", "net.connect"}}).empty());
  EXPECT_EQ(echo.accepted(), 0);
}

}  // namespace
}  // namespace airlock::testing

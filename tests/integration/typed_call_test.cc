// Calls on a unit's typed interface through a real airlockd and a real sandboxed worker
// (programs/typed_worker.cc, support/typed_probe.capnp): each call decided by method name,
// audited, bound to its own capabilities; no capability crosses; faults answered and recorded.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <airlock/tests/typed_probe.capnp.h>
#include <kj/debug.h>

#include <fstream>
#include <iterator>
#include <string>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

std::string typedPolicy(const std::string& extra = "") {
  return std::string(R"(
[unit]
name = "typed"
worker = "test-typed_worker"
call_timeout_ms = 60000
interface = ")") + AIRLOCK_SOURCE_DIR + R"(/tests/integration/support/typed_probe.capnp:TypedProbe"

[[rule]]
id = "tester-calls-typed"
allow = "call"
caller = ["tester"]
method = ["ping", "echo", "leak", "take", "crash", "fail", "readFile"]

[[rule]]
id = "reads-tmp"
allow = "fs.open"
path = "${tmp}/files/**"
mode = ["read"]
)" + extra;
}

// The description of the exception a typed call threw, or "" if it succeeded.
template <typename Request>
std::string failureOf(Request&& request, kj::WaitScope& waitScope) {
  std::string failure;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() { request.send().wait(waitScope); })) {
    failure = exception->getDescription().cStr();
  }
  return failure;
}

class TypedCallTest : public ::testing::Test {
 protected:
  void start(const std::string& policy) {
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"typed.toml", policy}});
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }
  nlohmann::json lastCallRecord() {
    auto calls = broker_->auditRecords({{"event", "call"}});
    return calls.empty() ? nlohmann::json() : calls.back();
  }
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(TypedCallTest, AGrantedMethodIsAnsweredAndRecordedUnderItsSchemaName) {
  start(typedPolicy());
  auto client = broker_->connect();
  auto probe = client.unit("typed").typed<rpc::TypedProbe>();
  auto request = probe.echoRequest();
  request.setText("hello, typed");
  auto answer = request.send().wait(client.waitScope());
  EXPECT_EQ(std::string(answer.getText()), "hello, typed");

  auto record = lastCallRecord();
  EXPECT_EQ(record["decision"], "allow") << record.dump();
  EXPECT_EQ(record["rule"], "tester-calls-typed");
  EXPECT_EQ(record["args"]["method"], "echo");
  EXPECT_EQ(record["args"]["interface"], "TypedProbe");
  EXPECT_EQ(record["result"], "ok");
  EXPECT_GT(record["worker_pid"].get<int>(), 0);

  // A superclass's method is named from the superclass.
  auto pong = probe.pingRequest().send().wait(client.waitScope());
  EXPECT_EQ(std::string(pong.getPong()), "pong");
  EXPECT_EQ(lastCallRecord()["args"]["method"], "ping");
}

TEST_F(TypedCallTest, AMethodNoRuleNamesIsDeniedByNameAndTheWorkerNeverSeesIt) {
  start(typedPolicy());
  auto client = broker_->connect();
  auto probe = client.unit("typed").typed<rpc::TypedProbe>();
  std::string failure = failureOf(probe.notGrantedRequest(), client.waitScope());
  EXPECT_NE(failure.find("denied: no rule allows call of typed.notGranted"), std::string::npos)
      << failure;
  auto record = lastCallRecord();
  EXPECT_EQ(record["decision"], "deny") << record.dump();
  EXPECT_EQ(record["rule"], "default-deny");
  EXPECT_EQ(record["args"]["method"], "notGranted");
  EXPECT_FALSE(record.contains("worker_pid") && record["worker_pid"].get<int>() > 0);
}

TEST_F(TypedCallTest, AnOrdinalOrInterfaceTheSchemaLacksIsRefusedAndRecorded) {
  start(typedPolicy());
  auto client = broker_->connect();
  auto cap = client.unit("typed").typedCapability();
  auto request = cap.typelessRequest(capnp::typeId<rpc::TypedProbe>(), 42, nullptr);
  std::string failure = failureOf(request, client.waitScope());
  EXPECT_NE(failure.find("no such method: method @0x"), std::string::npos) << failure;
  auto record = lastCallRecord();
  EXPECT_EQ(record["decision"], "deny") << record.dump();
  EXPECT_EQ(record["result"], "no such method");

  auto other = cap.typelessRequest(0x1234567890abcdefull, 0, nullptr);
  failure = failureOf(other, client.waitScope());
  EXPECT_NE(failure.find("no such method"), std::string::npos) << failure;
}

TEST_F(TypedCallTest, ACapabilityInTheWorkersResultsNeverReachesTheHost) {
  start(typedPolicy());
  auto client = broker_->connect();
  auto probe = client.unit("typed").typed<rpc::TypedProbe>();
  std::string failure = failureOf(probe.leakRequest(), client.waitScope());
  EXPECT_NE(failure.find("worker failed: the worker's results hold a capability"),
            std::string::npos) << failure;
  auto record = lastCallRecord();
  EXPECT_EQ(record["decision"], "allow") << record.dump();
  EXPECT_NE(record["result"].get<std::string>().find("hold a capability"), std::string::npos);
}

class HostSideProbe final : public rpc::TypedProbe::Server {};

TEST_F(TypedCallTest, ACapabilityInTheHostsParamsNeverReachesTheWorker) {
  start(typedPolicy());
  auto client = broker_->connect();
  auto probe = client.unit("typed").typed<rpc::TypedProbe>();
  auto request = probe.takeRequest();
  request.setProbe(kj::heap<HostSideProbe>());
  std::string failure = failureOf(request, client.waitScope());
  EXPECT_NE(failure.find("bad request: the params hold a capability"), std::string::npos)
      << failure;
  auto record = lastCallRecord();
  EXPECT_EQ(record["decision"], "deny") << record.dump();
  EXPECT_EQ(record["args"]["method"], "take");
}

TEST_F(TypedCallTest, EachCallIsBoundToItsOwnCapabilitiesWhichThePolicyStillDecides) {
  start(typedPolicy());
  ASSERT_EQ(mkdir(broker_->dir().file("files").c_str(), 0755), 0);
  broker_->dir().write("files/note.txt", "a brokered note");
  broker_->dir().write("elsewhere.txt", "not granted");
  ASSERT_TRUE(broker_->restart());  // the granted root is opened when the policy loads: it exists now
  auto client = broker_->connect();
  auto probe = client.unit("typed").typed<rpc::TypedProbe>();
  auto request = probe.readFileRequest();
  request.setPath(broker_->dir().file("files/note.txt"));
  auto answer = request.send().wait(client.waitScope());
  auto bytes = answer.getBytes();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size()),
            "a brokered note");

  auto denied = probe.readFileRequest();
  denied.setPath(broker_->dir().file("elsewhere.txt"));
  std::string failure = failureOf(denied, client.waitScope());
  EXPECT_NE(failure.find("worker failed"), std::string::npos) << failure;
  auto opens = broker_->auditRecords({{"event", "fs.open"}});
  ASSERT_EQ(opens.size(), 2u);
  EXPECT_EQ(opens[0]["decision"], "allow");
  EXPECT_EQ(opens[0]["rule"], "reads-tmp");
  EXPECT_EQ(opens[1]["decision"], "deny");
  auto calls = broker_->auditRecords({{"event", "call"}});
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(opens[0]["call_id"], calls[0]["call_id"]) << "the open belongs to its typed call";
  EXPECT_EQ(opens[1]["call_id"], calls[1]["call_id"]);
}

TEST_F(TypedCallTest, AThrowingMethodAndACrashingWorkerAreAnsweredAndTheUnitServesOn) {
  start(typedPolicy());
  auto client = broker_->connect();
  auto probe = client.unit("typed").typed<rpc::TypedProbe>();
  std::string failure = failureOf(probe.failRequest(), client.waitScope());
  EXPECT_NE(failure.find("worker failed: method threw"), std::string::npos) << failure;
  EXPECT_NE(failure.find("failed on purpose"), std::string::npos) << failure;

  failure = failureOf(probe.crashRequest(), client.waitScope());
  EXPECT_NE(failure.find("unit crashed: worker pid"), std::string::npos) << failure;
  auto crashed = lastCallRecord();
  EXPECT_NE(crashed["result"].get<std::string>().find("unit crashed"), std::string::npos)
      << crashed.dump();

  // The pool replaces the worker; the same typed capability keeps working.
  auto request = probe.echoRequest();
  request.setText("still here");
  EXPECT_EQ(std::string(request.send().wait(client.waitScope()).getText()), "still here");
}

TEST_F(TypedCallTest, AUnitWithoutATypedInterfaceRefusesTypedCalls) {
  start(R"(
[unit]
name = "typed"
worker = "test-typed_worker"

[[rule]]
id = "tester-calls-typed"
allow = "call"
caller = ["tester"]
method = ["*"]
)");
  auto client = broker_->connect();
  auto probe = client.unit("typed").typed<rpc::TypedProbe>();
  std::string failure = failureOf(probe.echoRequest(), client.waitScope());
  EXPECT_NE(failure.find("bad request: unit typed has no typed interface"), std::string::npos)
      << failure;
  EXPECT_EQ(lastCallRecord()["decision"], "deny");
}

TEST_F(TypedCallTest, TheThumbnailersDecodeWorksTypedAndItsDescribeIsRefusedByName) {
  TempDir images;
  auto samples = runProgram({binDir() + "/thumbnailer-samples", images.path()});
  ASSERT_EQ(samples.exitCode, 0) << samples.output;
  // The shipped policy, with its schema path made absolute for the test's policy directory.
  std::ifstream shipped(std::string(AIRLOCK_SOURCE_DIR) + "/policies/thumbnailer.toml");
  std::string text((std::istreambuf_iterator<char>(shipped)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(text.empty());
  std::string relative = "\"interfaces/image_decoder.capnp";
  auto at = text.find(relative);
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, relative.size(),
               "\"" + std::string(AIRLOCK_SOURCE_DIR) + "/policies/interfaces/image_decoder.capnp");
  BrokerOptions options;
  options.clients = {"web"};
  BrokerProcess broker({{"thumbnailer.toml", text}}, {{"images_dir", images.path()}}, options);
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();

  auto host = runProgram({binDir() + "/thumbnailer-host", "--socket", broker.socket(), "--key",
                          broker.clientKey("web"), "--broker-key", broker.brokerPublicKey(),
                          "--typed", images.file("sunset.png")});
  EXPECT_EQ(host.exitCode, 0) << host.output << broker.log();
  EXPECT_NE(host.output.find("(typed)"), std::string::npos) << host.output;
  auto plain = runProgram({binDir() + "/thumbnailer-host", "--socket", broker.socket(), "--key",
                           broker.clientKey("web"), "--broker-key", broker.brokerPublicKey(),
                           images.file("sunset.png")});
  ASSERT_EQ(plain.exitCode, 0) << plain.output;
  // Same decoder, same pixels: the digest the typed answer gives is the generic one's.
  auto digestOf = [](const std::string& out) {
    auto at = out.find("digest ");
    return at == std::string::npos ? std::string() : out.substr(at + 7, 16);
  };
  EXPECT_FALSE(digestOf(plain.output).empty()) << plain.output;
  EXPECT_EQ(digestOf(host.output), digestOf(plain.output));

  auto describe = runProgram({binDir() + "/thumbnailer-host", "--socket", broker.socket(), "--key",
                              broker.clientKey("web"), "--broker-key", broker.brokerPublicKey(),
                              "--typed-describe", "x"});
  EXPECT_EQ(describe.exitCode, 1) << describe.output;
  EXPECT_NE(describe.output.find("denied: no rule allows call of thumbnailer.describe"),
            std::string::npos) << describe.output;
}

// max_payload_bytes holds for a typed call's results as for its params: a file read whose answer
// is over it fails the call, and the record says why.
TEST_F(TypedCallTest, ResultsOverMaxPayloadBytesFailTheCallAndAreRecorded) {
  std::string policy = typedPolicy();
  policy.replace(policy.find("call_timeout_ms = 60000"), 23,
                 "call_timeout_ms = 60000\nmax_payload_bytes = 4096");
  start(policy);
  ASSERT_EQ(mkdir(broker_->dir().file("files").c_str(), 0755), 0);
  broker_->dir().write("files/small", std::string(1000, 's'));
  broker_->dir().write("files/large", std::string(8192, 'l'));
  ASSERT_TRUE(broker_->restart());  // the granted root is opened when the policy loads
  auto client = broker_->connect();
  auto probe = client.unit("typed").typed<rpc::TypedProbe>();
  auto small = probe.readFileRequest();
  small.setPath(broker_->dir().file("files/small"));
  EXPECT_EQ(small.send().wait(client.waitScope()).getBytes().size(), 1000u);
  auto large = probe.readFileRequest();
  large.setPath(broker_->dir().file("files/large"));
  std::string failure = failureOf(large, client.waitScope());
  EXPECT_NE(failure.find("exceeds max_payload_bytes 4096"), std::string::npos) << failure;
  auto record = lastCallRecord();
  EXPECT_EQ(record["args"]["method"], "readFile");
  EXPECT_NE(record["result"].get<std::string>().find("exceeds max_payload_bytes 4096"),
            std::string::npos)
      << record.dump();
}

}  // namespace
}  // namespace airlock::testing

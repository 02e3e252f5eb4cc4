// A method the broker does not offer, called on every capability a host or a worker can reach,
// is refused with a deny record (broker/caps/unknown_method.h), not answered "unimplemented"
// without a trace.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include <airlock/capnp/host.capnp.h>
#include <airlock/tests/typed_probe.capnp.h>

#include "sdk/host/client.h"
#include "sdk/host/handshake.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

std::map<std::string, std::string> policies() {
  return {
      {"typed.toml",
       "[unit]\nname = \"typed\"\nworker = \"test-typed_worker\"\ninterface = \"" AIRLOCK_SOURCE_DIR
       "/tests/integration/support/typed_probe.capnp:TypedProbe\"\n\n"
       "[[rule]]\nid = \"tester-calls\"\nallow = \"call\"\ncaller = [\"tester\"]\n"
       "method = [\"callUnknown\", \"keepFs\", \"useKeptFs\"]\n\n"
       "[[rule]]\nid = \"reads-files\"\nallow = \"fs.open\"\npath = \"${tmp}/files/**\"\n"
       "mode = [\"read\"]\n\n"
       "[[rule]]\nid = \"stats-files\"\nallow = \"fs.stat\"\npath = \"${tmp}/files/**\"\n\n"
       "[[rule]]\nid = \"some-secret\"\nallow = \"secrets.get\"\nname = [\"token\"]\n\n"
       "[[rule]]\nid = \"some-host\"\nallow = \"net.connect\"\nhost = [\"127.0.0.1\"]\nport = [9]\n\n"
       "[[rule]]\nid = \"invokes-other\"\nallow = \"invoke\"\nunit = [\"other\"]\n"
       "method = [\"echo\"]\n"},
      {"other.toml",
       "[unit]\nname = \"other\"\nworker = \"test-probe_worker\"\n\n"
       "[[rule]]\nid = \"typed-calls-other\"\nallow = \"call\"\ncaller_unit = [\"typed\"]\n"
       "method = [\"echo\"]\n"},
      {"broker.toml", "[broker]\nadmins = [\"tester\"]\n"},
  };
}

class UnknownMethodTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<BrokerProcess>(policies());
    ASSERT_EQ(mkdir(broker_->dir().file("files").c_str(), 0755), 0);
    broker_->dir().write("files/a", "a");
    ASSERT_TRUE(broker_->restart()) << broker_->log();  // the granted root opens at load
  }

  // The unknown.method records.
  std::vector<nlohmann::json> refusals() {
    return broker_->auditRecords({{"event", "unknown.method"},
                                  {"decision", "deny"},
                                  {"rule", "default-deny"}});
  }
  size_t refusalsOf(const std::string& capability) {
    size_t n = 0;
    for (auto& r : refusals()) n += r["args"]["capability"] == capability;
    return n;
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(UnknownMethodTest, EveryCapabilityAWorkerHoldsRefusesAndRecordsAMethodItDoesNotOffer) {
  auto client = broker_->connect();
  auto probe = client.unit("typed").typed<rpc::TypedProbe>();
  struct Case {
    std::string which, capability;
  };
  for (auto& c : std::vector<Case>{{"fs", "Fs"}, {"fs-as-net", "Fs"}, {"secrets", "Secrets"},
                                    {"net", "Net"}, {"log", "Log"}, {"units", "Units"},
                                    {"file", "File"}}) {
    SCOPED_TRACE(c.which);
    size_t before = refusalsOf(c.capability);
    auto request = probe.callUnknownRequest();
    request.setCapability(c.which);
    request.setPath(broker_->dir().file("files/a"));
    std::string answer = request.send().wait(client.waitScope()).getAnswer();
    EXPECT_NE(answer.find("is not a method the broker offers on " + c.capability),
              std::string::npos)
        << answer;
    EXPECT_EQ(refusalsOf(c.capability), before + 1) << broker_->log();
  }
  for (auto& record : refusals()) {
    EXPECT_EQ(record["unit"], "typed") << record.dump();
    EXPECT_GT(record["worker_pid"].get<int>(), 0) << record.dump();
    EXPECT_FALSE(record["call_id"].get<std::string>().empty()) << record.dump();
  }
}

TEST_F(UnknownMethodTest, EveryCapabilityAHostHoldsRefusesAndRecordsAMethodItDoesNotOffer) {
  auto io = kj::setupAsyncIo();
  auto stream = io.provider->getNetwork()
                    .parseAddress("unix:" + broker_->socket())
                    .wait(io.waitScope)
                    ->connect()
                    .wait(io.waitScope);
  capnp::TwoPartyClient rpc(*stream);
  auto session = airlock::authenticate(rpc.bootstrap().castAs<airlock::rpc::Gateway>(),
                                       ClientIdentity::fromFile(broker_->clientKey()),
                                       brokerKeyFromFile(broker_->brokerPublicKey()), io.waitScope);
  auto unitRequest = session.unitRequest();
  unitRequest.setName("typed");
  auto unit = unitRequest.send().getUnit();
  auto admin = session.adminRequest().send().getAdmin();
  auto check = [&](capnp::Capability::Client cap, uint64_t interfaceId,
                   const std::string& capability) {
    SCOPED_TRACE(capability);
    size_t before = refusalsOf(capability);
    auto request = cap.typelessRequest(interfaceId, 99, nullptr);
    KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { request.send().wait(io.waitScope); })) {
      EXPECT_NE(std::string(e->getDescription().cStr())
                    .find("is not a method the broker offers on " + capability),
                std::string::npos)
          << e->getDescription().cStr();
    } else {
      ADD_FAILURE() << "answered";
    }
    EXPECT_EQ(refusalsOf(capability), before + 1);
  };
  check(session, capnp::typeId<airlock::rpc::Session>(), "Session");
  check(session, capnp::typeId<airlock::rpc::Admin>(), "Session");
  check(unit, capnp::typeId<airlock::rpc::Unit>(), "Unit");
  check(admin, capnp::typeId<airlock::rpc::Admin>(), "Admin");
  for (auto& record : refusals()) {
    EXPECT_EQ(record["caller"], "client:tester,uid:0") << record.dump();
  }
}

// A worker that keeps a capability past its call holds nothing: the membrane every worker
// capability passes refuses each later request on it, with a deny record under the ended call.
TEST_F(UnknownMethodTest, ACapabilityKeptPastItsCallIsRefusedAndRecorded) {
  auto client = broker_->connect();
  auto probe = client.unit("typed").typed<rpc::TypedProbe>();
  probe.keepFsRequest().send().wait(client.waitScope());
  auto keptIn = broker_->auditRecords({{"event", "call"}}).back()["call_id"];
  auto use = probe.useKeptFsRequest();
  use.setPath(broker_->dir().file("files/a"));
  std::string answer = use.send().wait(client.waitScope()).getAnswer();
  EXPECT_NE(answer.find("refused: Fs.stat on a capability whose call"), std::string::npos)
      << answer;
  auto expired = broker_->auditRecords({{"event", "capability.expired"}});
  ASSERT_EQ(expired.size(), 1u) << broker_->log();
  EXPECT_EQ(expired[0]["decision"], "deny");
  EXPECT_EQ(expired[0]["rule"], "default-deny");
  EXPECT_EQ(expired[0]["args"]["method"], "Fs.stat");
  EXPECT_EQ(expired[0]["call_id"], keptIn) << "recorded under the call that handed it out";
  EXPECT_TRUE(broker_->auditRecords({{"event", "fs.stat"}}).empty()) << "never decided";
}

}  // namespace
}  // namespace airlock::testing

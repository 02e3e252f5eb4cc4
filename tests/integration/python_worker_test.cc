// A unit's worker written in Python ([unit] python_worker; sdk/python/airlock/worker.py), started
// sandboxed by a real airlockd and called by the C++ host SDK: it answers, reads only through
// fds the broker opened as its rules allow (a refusal recorded), parses with the standard
// library, and an untrusted package inside it is refused /etc/shadow and a socket of its own.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <string>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

const std::string PYTHON_DIR = std::string(AIRLOCK_SOURCE_DIR) + "/tests/integration/python";

const std::string PYTHON_WORKER_POLICY = R"(
[unit]
name = "pyworker"
python_worker = ")" + PYTHON_DIR + R"(/python_worker.py"
call_timeout_ms = 60000

[sandbox]
read_only_paths = [")" + PYTHON_DIR + R"(/untrusted"]

[[rule]]
id = "tester-calls-pyworker"
allow = "call"
caller = ["tester"]
method = ["echo", "read", "count-items", "refusal", "steal-shadow", "phone-home", "log",
          "python"]

[[rule]]
id = "reads-files"
allow = "fs.open"
path = "${tmp}/files/**"
mode = ["read"]
)";

class PythonWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"pyworker.toml", PYTHON_WORKER_POLICY}});
    mkdir(broker_->dir().file("files").c_str(), 0755);
    broker_->dir().write("files/note.txt", "brokered bytes");
    broker_->dir().write("files/items.xml", "<list><item/><item/><item/></list>");
    broker_->dir().write("secret.txt", "not granted");
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
    client_ = std::make_unique<Client>(broker_->connect());
  }

  CallOutcome call(const std::string& method, const std::string& payload) {
    return client_->unit("pyworker").call(method, payload);
  }

  std::unique_ptr<BrokerProcess> broker_;
  std::unique_ptr<Client> client_;
};

TEST_F(PythonWorkerTest, APythonWorkerAnswersAndReadsOnlyWhatItsRulesAllowRecordingTheRefusal) {
  auto echoed = call("echo", std::string("from Python\0with a NUL", 22));
  ASSERT_TRUE(echoed.ok()) << echoed.describe() << "\n" << broker_->log();
  EXPECT_EQ(echoed.payload(), std::string("from Python\0with a NUL", 22));

  auto read = call("read", broker_->dir().file("files/note.txt"));
  ASSERT_TRUE(read.ok()) << read.describe();
  EXPECT_EQ(read.payload(), "brokered bytes");

  auto parsed = call("count-items", broker_->dir().file("files/items.xml"));
  ASSERT_TRUE(parsed.ok()) << parsed.describe();
  EXPECT_EQ(parsed.payload(), "3");

  auto refused = call("read", broker_->dir().file("secret.txt"));
  EXPECT_EQ(refused.errorKind(), CallErrorKind::WORKER_FAILED) << refused.describe();
  EXPECT_EQ(refused.message().rfind("Denied: ", 0), 0u) << refused.message();
  EXPECT_EQ(refused.message().find("not granted"), std::string::npos) << "the bytes leaked";
  auto seen = call("refusal", broker_->dir().file("secret.txt"));
  ASSERT_TRUE(seen.ok()) << seen.describe();
  EXPECT_EQ(seen.payload(), "Denied kind=denied");

  auto opens = broker_->auditRecords({{"event", "fs.open"}});
  ASSERT_EQ(opens.size(), 4u) << broker_->log();
  EXPECT_EQ(opens[0]["decision"], "allow");
  EXPECT_EQ(opens[0]["rule"], "reads-files");
  EXPECT_EQ(opens[2]["decision"], "deny");
  EXPECT_EQ(opens[2]["args"]["path"], broker_->dir().file("secret.txt"));

  auto logged = call("log", "a line from a worker in Python");
  ASSERT_TRUE(logged.ok()) << logged.describe();
  EXPECT_NE(broker_->log().find("a line from a worker in Python"), std::string::npos);
}

TEST_F(PythonWorkerTest, AnUntrustedPackageInAPythonWorkerGetsNeitherShadowNorASocket) {
  auto shadow = call("steal-shadow", "");
  ASSERT_TRUE(shadow.ok()) << shadow.describe() << "\n" << broker_->log();
  // Natively the sandbox shows no /etc at all; through the broker no rule allows it.
  EXPECT_EQ(shadow.payload(), "native: FileNotFoundError; brokered: Denied");
  auto denied = broker_->auditRecords({{"event", "fs.open"}, {"decision", "deny"}});
  ASSERT_EQ(denied.size(), 1u) << broker_->log();
  EXPECT_EQ(denied[0]["args"]["path"], "/etc/shadow");

  auto home = call("phone-home", "127.0.0.1:9");
  EXPECT_EQ(home.errorKind(), CallErrorKind::UNIT_CRASHED) << home.describe();
  auto exits = broker_->auditRecords({{"event", "worker.exit"}});
  ASSERT_EQ(exits.size(), 1u) << broker_->log();
  EXPECT_NE(exits[0].dump().find("socket"), std::string::npos) << exits[0].dump();

  auto after = call("echo", "a new worker");
  ASSERT_TRUE(after.ok()) << after.describe();
  EXPECT_EQ(after.payload(), "a new worker");
}

}  // namespace
}  // namespace airlock::testing

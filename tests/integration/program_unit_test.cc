// A [unit] program served by airlockd: Debian's xmllint, unmodified, run once per Unit.run call
// in a fresh sandbox, its own file syscalls decided by the unit's rules and tied to the call's
// record; from the SDK and from `airlock call --run`.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

constexpr char XMLLINT[] = "/usr/bin/xmllint";

std::string programPolicy(const std::string& program, const std::string& methods,
                          int timeoutMs = 10000) {
  return "[unit]\nname = \"xml\"\nprogram = \"" + program + "\"\ncall_timeout_ms = " +
         std::to_string(timeoutMs) + "\n\n[[rule]]\nid = \"tester-runs\"\nallow = \"call\"\n"
         "caller = [\"tester\"]\nmethod = [" + methods + "]\n\n[[rule]]\nid = \"read-docs\"\n"
         "allow = \"fs.open\"\npath = \"${tmp}/docs/**\"\nmode = [\"read\"]\n\n[[rule]]\n"
         "id = \"stat-docs\"\nallow = \"fs.stat\"\npath = \"${tmp}/docs/**\"\n";
}

class ProgramUnitTest : public ::testing::Test {
 protected:
  void start(const std::string& policy) {
    broker_ = std::make_unique<BrokerProcess>(std::map<std::string, std::string>{{"xml.toml", policy}});
    auto& dir = broker_->dir();
    mkdir(dir.file("docs").c_str(), 0755);
    dir.write("docs/doc.xml",
              "<?xml version=\"1.0\"?>\n<book xmlns:xi=\"http://www.w3.org/2001/XInclude\">\n"
              "  <xi:include href=\"chapter.xml\"/>\n</book>\n");
    dir.write("docs/chapter.xml", "<chapter>sibling text</chapter>\n");
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(ProgramUnitTest, ARunGivesTheProgramsOutputAndStatusWithOneRecordAndItsSyscallsTiedToIt) {
  if (access(XMLLINT, X_OK) != 0) GTEST_SKIP() << "no xmllint";
  start(programPolicy(XMLLINT, "\"run\""));
  std::string doc = broker_->dir().file("docs/doc.xml");
  auto outside = runProgram({XMLLINT, "--xinclude", doc});
  ASSERT_EQ(outside.exitCode, 0) << outside.output;

  auto client = broker_->connect();
  auto ran = client.unit("xml").run({"--xinclude", doc});
  ASSERT_TRUE(ran.call.ok()) << ran.call.describe() << "\n" << broker_->log();
  EXPECT_EQ(ran.status, 0) << ran.err;
  EXPECT_EQ(ran.out, outside.output);
  EXPECT_NE(ran.out.find("sibling text"), std::string::npos);

  auto calls = broker_->auditRecords({{"event", "call"}, {"unit", "xml"}});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["decision"], "allow");
  EXPECT_EQ(calls[0]["args"]["method"], "run");
  EXPECT_EQ(calls[0]["args"]["args"][1], doc);
  EXPECT_NE(calls[0]["result"].get<std::string>().find("exited with status 0"), std::string::npos)
      << calls[0];
  auto opens = broker_->auditRecords({{"event", "fs.open"}, {"rule", "read-docs"}});
  ASSERT_EQ(opens.size(), 2u);  // the document and its sibling
  for (auto& open : opens) {
    EXPECT_EQ(open["call_id"], calls[0]["call_id"]);
    EXPECT_EQ(open["args"]["via"], "syscall");
  }

  // stdin, a failing status, and the shell's command.
  auto fromStdin = client.unit("xml").run({"-"}, "<a><b/></a>\n");
  ASSERT_TRUE(fromStdin.call.ok()) << fromStdin.call.describe();
  EXPECT_EQ(fromStdin.out, "<?xml version=\"1.0\"?>\n<a><b/></a>\n");
  auto broken = client.unit("xml").run({"-"}, "<a>\n");
  ASSERT_TRUE(broken.call.ok());
  EXPECT_NE(broken.status, 0);
  EXPECT_FALSE(broken.err.empty());
  auto cli = runProgram({binDir() + "/airlock", "call", "--socket", broker_->socket(), "--key",
                         broker_->clientKey(), "--broker-key", broker_->brokerPublicKey(),
                         "--unit", "xml", "--run", "--", "--xinclude", doc});
  EXPECT_EQ(cli.exitCode, 0) << cli.output;
  EXPECT_EQ(cli.output, outside.output);
}

TEST_F(ProgramUnitTest, TheCallRulesDecideARunAndTheProgramReachesOnlyWhatItsRulesGrant) {
  if (access(XMLLINT, X_OK) != 0) GTEST_SKIP() << "no xmllint";
  start(programPolicy(XMLLINT, "\"not-run\""));
  auto client = broker_->connect();
  auto denied = client.unit("xml").run({"--version"});
  EXPECT_EQ(denied.call.errorKind(), CallErrorKind::DENIED) << denied.call.describe();
  EXPECT_TRUE(broker_->auditRecords({{"event", "call.admitted"}}).empty());
}

TEST_F(ProgramUnitTest, AnXxeOfPasswdInARunIsADenyRecordOfThatCall) {
  if (access(XMLLINT, X_OK) != 0) GTEST_SKIP() << "no xmllint";
  start(programPolicy(XMLLINT, "\"run\""));
  broker_->dir().write("docs/xxe.xml",
                       "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "
                       "\"file:///etc/passwd\">]>\n<r>&x;</r>\n");
  auto client = broker_->connect();
  auto ran = client.unit("xml").run({"--noent", broker_->dir().file("docs/xxe.xml")});
  ASSERT_TRUE(ran.call.ok()) << ran.call.describe();
  EXPECT_EQ(ran.out.find("root:"), std::string::npos) << ran.out;
  auto call = broker_->auditRecords({{"event", "call"}, {"unit", "xml"}});
  ASSERT_EQ(call.size(), 1u);
  bool denied = false;
  for (auto& record : broker_->auditRecords({{"decision", "deny"}})) {
    if (record["args"].value("path", "") != "/etc/passwd") continue;
    EXPECT_EQ(record["call_id"], call[0]["call_id"]);
    denied = true;
  }
  EXPECT_TRUE(denied);
}

// More input than a pipe holds, echoed back while it is still being fed: no deadlock.
TEST_F(ProgramUnitTest, StdinIsFedWhileOutputDrains) {
  start(programPolicy("/bin/cat", "\"run\"") + "\n");
  auto client = broker_->connect();
  auto small = client.unit("xml").run({}, "hello\n");
  ASSERT_TRUE(small.call.ok()) << small.call.describe();
  EXPECT_EQ(small.out, "hello\n");
  EXPECT_FALSE(small.outputCut);
  std::string big(300 * 1024, 'x');
  auto echoed = client.unit("xml").run({}, big);
  ASSERT_TRUE(echoed.call.ok()) << echoed.call.describe();
  EXPECT_EQ(echoed.status, 0);
  EXPECT_EQ(echoed.out, big);
}

// Output past max_payload_bytes is cut, and said to be; the program still runs to its end.
TEST_F(ProgramUnitTest, OutputIsCutAtTheUnitsPayloadLimit) {
  start(programPolicy("/usr/bin/head", "\"run\"") + "\n");
  auto client = broker_->connect();
  auto ran = client.unit("xml").run({"-c", "3000000", "/dev/zero"});
  ASSERT_TRUE(ran.call.ok()) << ran.call.describe();
  EXPECT_EQ(ran.status, 0) << ran.err;
  EXPECT_TRUE(ran.outputCut);
  EXPECT_EQ(ran.out.size(), static_cast<size_t>(1 << 20));  // the default max_payload_bytes
}

TEST_F(ProgramUnitTest, AProgramPastTheDeadlineIsKilledAndTheRunTimesOut) {
  start(programPolicy("/bin/sleep", "\"run\"", 300));
  auto client = broker_->connect();
  auto ran = client.unit("xml").run({"30"});
  EXPECT_EQ(ran.call.errorKind(), CallErrorKind::TIMED_OUT) << ran.call.describe();
  auto calls = broker_->auditRecords({{"event", "call"}, {"unit", "xml"}});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_NE(calls[0]["result"].get<std::string>().find("timed out"), std::string::npos)
      << calls[0];
}

// A learning program unit: a syscall outside its groups (python3's sysinfo at start-up) runs on
// record, the record tied to the run's call, and the call's record counts it.
TEST_F(ProgramUnitTest, ALearningRunsSyscallsAreOnRecordUnderItsCall) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  std::string policy = programPolicy("/usr/bin/python3", "\"run\"");
  policy.insert(policy.find("call_timeout_ms"),
                "mode = \"learn\"\njustification = \"which syscalls python3 needs\"\n"
                "learn_paths = [\"${tmp}/docs/**\"]\n");
  start(policy);
  auto ran = broker_->connect().unit("xml").run({"-I", "-S", "-c", "print('ran')"});
  ASSERT_TRUE(ran.call.ok()) << ran.call.describe() << "\n" << broker_->log();
  EXPECT_EQ(ran.status, 0) << ran.err;
  EXPECT_EQ(ran.out, "ran\n");
  auto calls = broker_->auditRecords({{"event", "call"}, {"unit", "xml"}});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_GE(calls[0]["args"]["learned_syscalls"].value("sysinfo", 0), 1) << calls[0].dump();
  auto learned = broker_->auditRecords({{"event", "syscall.learned"}});
  ASSERT_FALSE(learned.empty()) << broker_->log();
  for (auto& record : learned) {
    EXPECT_EQ(record["call_id"], calls[0]["call_id"]) << record.dump();
    EXPECT_EQ(record["caller"], calls[0]["caller"]) << record.dump();
    EXPECT_EQ(record["decision"], "learn");
  }
}

}  // namespace
}  // namespace airlock::testing

// End to end through a real airlockd: host client -> broker -> sandboxed probe worker -> broker
// capabilities, with the audit log checked after each step.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <kj/exception.h>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

std::string probePolicy(const std::string& extraUnit = "", int timeoutMs = 5000) {
  return R"(
[unit]
name = "probe"
worker = "test-probe_worker"
call_timeout_ms = )" + std::to_string(timeoutMs) + R"(

[[rule]]
id = "data-read"
allow = "fs.open"
path = "${tmp}/data/**"
mode = ["read"]

[[rule]]
id = "out-write"
allow = "fs.open"
path = "${tmp}/out/**"
mode = ["write", "create", "truncate"]

[[rule]]
id = "me-calls-probe"
allow = "call"
caller = ["tester"]
method = ["*"]
)" + extraUnit;
}

class BrokerTest : public ::testing::Test {
 protected:
  void start(const std::string& policy = probePolicy()) {
    broker_ = std::make_unique<BrokerProcess>(std::map<std::string, std::string>{{"probe.toml", policy}});
    auto& dir = broker_->dir();
    mkdir(dir.file("data").c_str(), 0755);
    mkdir(dir.file("out").c_str(), 0755);
    dir.write("data/hello.txt", "hello from the host\n");
    dir.write("secret.txt", "top secret\n");
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  CallOutcome call(const std::string& method, const std::string& payload) {
    auto client = broker_->connect();
    return client.unit("probe").call(method, payload);
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(BrokerTest, AnAllowedOpenPassesARealDescriptorAndIsAudited) {
  start();
  std::string path = broker_->dir().file("data/hello.txt");
  auto outcome = call("read", path);
  ASSERT_TRUE(outcome.ok()) << outcome.describe() << "\n" << broker_->log();
  EXPECT_EQ(outcome.payload(), "hello from the host\n");

  auto opens = broker_->auditRecords({{"event", "fs.open"}});
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0]["decision"], "allow");
  EXPECT_EQ(opens[0]["rule"], "data-read");
  EXPECT_EQ(opens[0]["args"]["path"], path);
  EXPECT_EQ(opens[0]["result"], "fd passed");
  EXPECT_GT(opens[0]["worker_pid"].get<int>(), 0);

  auto calls = broker_->auditRecords({{"event", "call"}});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["decision"], "allow");
  EXPECT_EQ(calls[0]["rule"], "me-calls-probe");
  EXPECT_EQ(calls[0]["result"], "ok");
  EXPECT_EQ(calls[0]["caller"], "client:tester,uid:" + std::to_string(getuid()));
  EXPECT_EQ(calls[0]["call_id"], opens[0]["call_id"]) << "the open is tied to its call";
}

TEST_F(BrokerTest, EveryEscapeAttemptIsRefusedWithADenyRecordNamingTheRule) {
  start();
  auto& dir = broker_->dir();
  ASSERT_EQ(symlink(dir.file("secret.txt").c_str(), dir.file("data/planted.png").c_str()), 0);
  ASSERT_EQ(symlink("../secret.txt", dir.file("data/relative-link.png").c_str()), 0);

  struct Attempt {
    std::string path, rule;
  };
  std::vector<Attempt> attempts = {
      {dir.file("data/../secret.txt"), "default-deny"},     // .. out of the grant
      {"../../etc/passwd", "default-deny"},                 // relative
      {"/etc/passwd", "default-deny"},                      // absolute, outside every grant
      {dir.file("data/planted.png"), "data-read"},          // symlink planted in the grant
      {dir.file("data/relative-link.png"), "data-read"},    // relative symlink
  };
  for (auto& attempt : attempts) {
    auto outcome = call("read", attempt.path);
    ASSERT_FALSE(outcome.ok()) << attempt.path << " was opened";
    EXPECT_EQ(outcome.errorKind(), CallErrorKind::WORKER_FAILED);
    EXPECT_NE(outcome.message().find("DENIED"), std::string::npos) << outcome.message();
    EXPECT_EQ(outcome.message().find("top secret"), std::string::npos);

    auto records = broker_->auditRecords({{"event", "fs.open"}});
    ASSERT_FALSE(records.empty());
    auto& last = records.back();
    EXPECT_EQ(last["args"]["path"], attempt.path);
    EXPECT_EQ(last["decision"], "deny") << last.dump();
    EXPECT_EQ(last["rule"], attempt.rule) << last.dump();
    EXPECT_FALSE(last["reason"].get<std::string>().empty());
  }
}

TEST_F(BrokerTest, AReadGrantDoesNotGrantWriting) {
  start();
  auto denied = call("write", broker_->dir().file("data/hello.txt") + "\noverwritten");
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.message().find("DENIED"), std::string::npos) << denied.message();
  std::ifstream original(broker_->dir().file("data/hello.txt"));
  std::string line;
  std::getline(original, line);
  EXPECT_EQ(line, "hello from the host");

  auto written = call("write", broker_->dir().file("out/result.txt") + "\nfrom the worker");
  ASSERT_TRUE(written.ok()) << written.describe();
  std::ifstream result(broker_->dir().file("out/result.txt"));
  std::getline(result, line);
  EXPECT_EQ(line, "from the worker");
  auto records = broker_->auditRecords({{"event", "fs.open"}, {"rule", "out-write"}});
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["args"]["mode"], "write,create,truncate");
}

TEST_F(BrokerTest, AFifoUnderAGrantIsRefusedWithoutBlockingTheBroker) {
  start();
  ASSERT_EQ(mkfifo(broker_->dir().file("data/pipe.png").c_str(), 0644), 0);
  auto outcome = call("read", broker_->dir().file("data/pipe.png"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.message().find("not a regular file"), std::string::npos) << outcome.message();
  EXPECT_TRUE(call("echo", "not blocked").ok());
}

TEST_F(BrokerTest, TheWorkerCannotOpenHostFilesItself) {
  start();
  for (std::string path : {std::string("/etc/passwd"), broker_->dir().file("data/hello.txt"),
                           broker_->auditPath()}) {
    auto outcome = call("open-directly", path);
    ASSERT_TRUE(outcome.ok()) << outcome.describe();
    EXPECT_EQ(outcome.payload(), "errno ENOENT") << path;
  }
}

TEST_F(BrokerTest, AWorkerKilledMidCallGivesUnitCrashedAndTheNextCallSucceeds) {
  start();
  auto spawn = broker_->waitForRecord({{"event", "worker.spawn"}});
  ASSERT_FALSE(spawn.is_null());
  pid_t worker = spawn["worker_pid"].get<pid_t>();
  ASSERT_TRUE(call("echo", "warm").ok());

  std::thread killer([&]() {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(worker, SIGKILL);
  });
  auto outcome = call("hang", "");
  killer.join();
  ASSERT_EQ(outcome.errorKind(), CallErrorKind::UNIT_CRASHED) << outcome.describe();
  EXPECT_NE(outcome.message().find("SIGKILL"), std::string::npos) << outcome.message();

  auto next = call("echo", "again");
  ASSERT_TRUE(next.ok()) << next.describe() << "\n" << broker_->log();
  EXPECT_EQ(next.payload(), "again");
  EXPECT_EQ(broker_->auditRecords({{"event", "worker.spawn"}}).size(), 2u);
  auto exits = broker_->auditRecords({{"event", "worker.exit"}});
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0]["worker_pid"], worker);
  auto crashed = broker_->auditRecords({{"event", "call"}, {"args", {{"method", "hang"}, {"payload_bytes", 0}}}});
  ASSERT_EQ(crashed.size(), 1u);
  EXPECT_NE(crashed[0]["result"].get<std::string>().find("unit crashed"), std::string::npos);
}

TEST_F(BrokerTest, ACrashingWorkerIsReportedWithItsSignalAndReplaced) {
  start();
  auto outcome = call("crash", "");
  ASSERT_EQ(outcome.errorKind(), CallErrorKind::UNIT_CRASHED) << outcome.describe();
  EXPECT_NE(outcome.message().find("SIGSEGV"), std::string::npos) << outcome.message();
  auto exitOutcome = call("exit", "");
  ASSERT_EQ(exitOutcome.errorKind(), CallErrorKind::UNIT_CRASHED) << exitOutcome.describe();
  EXPECT_NE(exitOutcome.message().find("status 3"), std::string::npos) << exitOutcome.message();
  auto next = call("echo", "still here");
  ASSERT_TRUE(next.ok()) << next.describe();
}

TEST_F(BrokerTest, AWorkerStoppedBySeccompIsAuditedWithTheSyscallsName) {
  start();
  auto outcome = call("ptrace", "");
  ASSERT_EQ(outcome.errorKind(), CallErrorKind::UNIT_CRASHED) << outcome.describe();
  EXPECT_NE(outcome.message().find("refused syscall ptrace(0x10, 0x1"), std::string::npos)
      << outcome.message();
  auto exit = broker_->waitForRecord({{"event", "worker.exit"}});
  ASSERT_FALSE(exit.is_null());
  EXPECT_NE(exit["result"].get<std::string>().find("killed by seccomp: refused syscall ptrace("),
            std::string::npos)
      << exit.dump();
  EXPECT_NE(broker_->log().find("refused syscall ptrace("), std::string::npos) << broker_->log();
  auto next = call("echo", "after the refusal");
  ASSERT_TRUE(next.ok()) << next.describe();
}

// A syscall outside the default groups stops the worker, and the refusal names the group that
// would allow it; the unit's [sandbox] syscalls with that group lets the same call run.
TEST_F(BrokerTest, AUnitsSandboxSyscallsAddTheGroupItsRefusalNamed) {
  start();
  auto refused = call("statfs", "/");
  ASSERT_EQ(refused.errorKind(), CallErrorKind::UNIT_CRASHED) << refused.describe();
  EXPECT_NE(refused.message().find("refused syscall statfs(0x"), std::string::npos)
      << refused.message();
  auto exit = broker_->waitForRecord({{"event", "worker.exit"}});
  ASSERT_FALSE(exit.is_null());
  EXPECT_NE(exit["result"].get<std::string>().find(
                "[in group fs-metadata: add \"fs-metadata\" to [sandbox] syscalls"),
            std::string::npos)
      << exit.dump();

  // The policy the refusal asked for, on a fresh broker: the same call runs.
  broker_.reset();
  start(R"([sandbox]
syscalls = ["fs-metadata"]
)" + probePolicy());
  auto allowed = call("statfs", "/");
  EXPECT_TRUE(allowed.ok()) << allowed.describe() << "\n" << broker_->log();
  EXPECT_EQ(allowed.payload(), "statfs ok");
}

// on_refused_syscall = "errno": the refused syscall fails with ENOSYS and the worker goes on; the
// first refusal of each syscall is recorded with the group that would allow it, the rest counted
// in the worker's exit record.
TEST_F(BrokerTest, UnderOnRefusedSyscallErrnoTheWorkerGoesOnAndRefusalsAreRecordedOnceAndCounted) {
  start(R"([sandbox]
on_refused_syscall = "errno"
)" + probePolicy());
  for (int i = 0; i < 3; ++i) {
    auto refused = call("statfs", "/");
    EXPECT_EQ(refused.errorKind(), CallErrorKind::WORKER_FAILED) << refused.describe();
    EXPECT_EQ(refused.message(), "statfs: Function not implemented") << refused.describe();
  }
  auto next = call("echo", "still here");
  ASSERT_TRUE(next.ok()) << next.describe();
  EXPECT_TRUE(broker_->auditRecords({{"event", "worker.exit"}}).empty()) << "no worker died";
  auto records = broker_->auditRecords({{"event", "syscall.refused"}});
  ASSERT_EQ(records.size(), 1u) << "one record per syscall and worker, not one per refusal";
  EXPECT_EQ(records[0]["args"]["syscall"], "statfs");
  EXPECT_NE(records[0]["reason"].get<std::string>().find("[in group fs-metadata"),
            std::string::npos)
      << records[0].dump();
  EXPECT_GT(records[0]["worker_pid"].get<int>(), 0);

  ASSERT_EQ(broker_->stop(), 0);
  auto exits = broker_->auditRecords({{"event", "worker.exit"}});
  ASSERT_FALSE(exits.empty());
  EXPECT_EQ(exits[0]["args"]["answered_syscalls"]["statfs"], 3) << exits[0].dump();
}

// With a seccomp profile, a refusal is answered with the errno the profile gives the syscall
// (its errnoRet, else the default action's), as the profile's authors meant.
TEST_F(BrokerTest, UnderOnRefusedSyscallErrnoAProfilesErrnoIsTheAnswer) {
  TempDir profiles;
  profiles.write("profile.json", R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
    "syscalls": [{"names": ["statfs"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]})");
  start("[sandbox]\non_refused_syscall = \"errno\"\nseccomp_profile = \"" +
        profiles.file("profile.json") + "\"\n" + probePolicy());
  auto refused = call("statfs", "/");
  EXPECT_EQ(refused.message(), "statfs: Permission denied") << refused.describe();
  auto records = broker_->auditRecords({{"event", "syscall.refused"}});
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0]["result"].get<std::string>().find("answered EACCES"), std::string::npos)
      << records[0].dump();
  EXPECT_TRUE(call("echo", "still here").ok());
}

TEST_F(BrokerTest, AWorkerPastItsDeadlineIsKilledAndTheCallerToldTimedOut) {
  start(probePolicy("", 700));
  auto outcome = call("hang", "");
  ASSERT_EQ(outcome.errorKind(), CallErrorKind::TIMED_OUT) << outcome.describe();
  auto next = call("echo", "after timeout");
  ASSERT_TRUE(next.ok()) << next.describe();
  EXPECT_FALSE(broker_->waitForRecord({{"event", "worker.exit"}}).is_null());
}

// A host may shorten its call's deadline, never lengthen it past the unit's call_timeout_ms.
TEST_F(BrokerTest, ACallerMayShortenItsDeadlineButNotLengthenIt) {
  start(probePolicy("", 30000));
  {
    auto client = broker_->connect();
    auto shortened = client.unit("probe").call("hang", "", std::chrono::milliseconds(300));
    ASSERT_EQ(shortened.errorKind(), CallErrorKind::TIMED_OUT) << shortened.describe();
    EXPECT_EQ(shortened.message(), "no answer within the caller's timeout_ms 300");
    // Met in time, the shortened call is answered as usual.
    EXPECT_TRUE(client.unit("probe").call("echo", "x", std::chrono::milliseconds(20000)).ok());
  }
  auto records = broker_->auditRecords(
      {{"event", "call"}, {"args", {{"method", "hang"}, {"payload_bytes", 0}, {"timeout_ms", 300}}}});
  ASSERT_EQ(records.size(), 1u) << "the record carries the caller's timeout_ms";
  EXPECT_EQ(records[0]["result"], "timed out: no answer within the caller's timeout_ms 300");
  broker_.reset();

  start(probePolicy("", 300));
  auto capped = broker_->connect().unit("probe").call("hang", "", std::chrono::minutes(10));
  ASSERT_EQ(capped.errorKind(), CallErrorKind::TIMED_OUT) << capped.describe();
  EXPECT_EQ(capped.message(), "no answer within call_timeout_ms 300");
}

TEST_F(BrokerTest, UnknownMethodsAndUnitsAreDistinctErrors) {
  start();
  EXPECT_EQ(call("no-such-method", "").errorKind(), CallErrorKind::NO_SUCH_METHOD);
  auto client = broker_->connect();
  auto outcome = client.unit("nonexistent").call("echo", "");
  EXPECT_EQ(outcome.errorKind(), CallErrorKind::NO_SUCH_UNIT);
  auto records = broker_->auditRecords({{"event", "call"}, {"unit", "nonexistent"}});
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["decision"], "deny");
}

TEST_F(BrokerTest, AClientNoPolicyNamesIsRefusedAtAuthentication) {
  std::string policy = probePolicy();
  std::string me = "caller = [\"tester\"]";
  policy.replace(policy.find(me), me.size(), "caller = [\"someone-else\"]");
  start(policy);
  try {
    broker_->connect();
    FAIL() << "connected as a client no policy names";
  } catch (const kj::Exception& e) {
    EXPECT_NE(std::string(e.getDescription().cStr()).find("authentication refused"),
              std::string::npos) << e.getDescription().cStr();
  }
  auto auth = broker_->auditRecords({{"event", "auth"}});
  ASSERT_EQ(auth.size(), 1u);
  EXPECT_EQ(auth[0]["decision"], "deny");
  EXPECT_EQ(auth[0]["rule"], "default-deny");
  EXPECT_EQ(auth[0]["args"]["failure"], "not a caller");
}

TEST_F(BrokerTest, AMethodTheCallerIsNotGrantedIsDeniedByRule) {
  std::string policy = probePolicy();
  policy.replace(policy.find("method = [\"*\"]"), 14, "method = [\"echo\"]");
  start(policy);
  EXPECT_TRUE(call("echo", "x").ok());
  auto outcome = call("read", "/etc/passwd");
  ASSERT_EQ(outcome.errorKind(), CallErrorKind::DENIED);
  EXPECT_EQ(outcome.ruleId(), "default-deny");
}

TEST_F(BrokerTest, ACapabilityThePolicyDoesNotGrantIsNotReachableAtAll) {
  start(R"(
[unit]
name = "probe"
worker = "test-probe_worker"

[[rule]]
id = "me-calls-probe"
allow = "call"
caller = ["tester"]
method = ["*"]
)");
  auto outcome = call("read", "/etc/passwd");
  ASSERT_EQ(outcome.errorKind(), CallErrorKind::WORKER_FAILED);
  EXPECT_NE(outcome.message().find("grants no file access"), std::string::npos)
      << outcome.message();
  EXPECT_TRUE(broker_->auditRecords({{"event", "fs.open"}}).empty())
      << "nothing to refuse: the worker never held an fs capability";
}

size_t openFdCount(pid_t pid) {
  size_t count = 0;
  for (auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    (void)entry;
    ++count;
  }
  return count;
}

// The broker closes a finished host connection asynchronously; give it a moment to settle. A
// leak would never settle.
size_t settledFdCount(pid_t pid, size_t expected) {
  size_t count = openFdCount(pid);
  for (int i = 0; i < 100 && count != expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    count = openFdCount(pid);
  }
  return count;
}

TEST_F(BrokerTest, FdsAndJunkAWorkerSendsNeverEnterTheBroker) {
  start();
  ASSERT_TRUE(call("echo", "warm").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  size_t before = openFdCount(broker_->pid());
  auto outcome = call("spam-fds", "");
  EXPECT_EQ(outcome.errorKind(), CallErrorKind::UNIT_CRASHED)
      << "a worker that breaks the protocol is killed: " << outcome.describe();
  auto next = call("echo", "still serving");
  ASSERT_TRUE(next.ok()) << next.describe() << "\n" << broker_->log();
  EXPECT_EQ(settledFdCount(broker_->pid(), before), before)
      << "the 256 fds the worker attached were closed by the kernel, not received";
}

TEST_F(BrokerTest, TheHostSocketAndTheAuditLogAreOwnerOnly) {
  start();
  struct stat st;
  ASSERT_EQ(stat(broker_->socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(broker_->auditPath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(BrokerTest, SigtermLetsACallInFlightFinishAndRecordsItBeforeStopping) {
  start();
  ASSERT_TRUE(call("echo", "warm").ok());
  CallOutcome slow = CallOutcome::failure(CallErrorKind::INTERNAL, "not answered");
  std::thread caller([&]() { slow = call("sleep", "600"); });
  // SIGTERM only once the worker is running the call: it says so on stderr, which the broker logs.
  bool running = false;
  for (int i = 0; i < 1000 && !running; ++i) {
    running = broker_->log().find("sleeping 600") != std::string::npos;
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(running) << broker_->log();
  kill(broker_->pid(), SIGTERM);
  caller.join();
  ASSERT_TRUE(slow.ok()) << "a call in flight at SIGTERM must finish: " << slow.describe();
  EXPECT_EQ(slow.payload(), "slept");
  EXPECT_EQ(broker_->stop(), 0);
  auto records = broker_->auditRecords();
  int sleptAt = -1, stoppedAt = -1;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i]["event"] == "call" && records[i]["args"]["method"] == "sleep") {
      sleptAt = static_cast<int>(i);
      EXPECT_EQ(records[i]["result"], "ok");
    }
    if (records[i]["event"] == "broker.stop") stoppedAt = static_cast<int>(i);
  }
  ASSERT_GE(sleptAt, 0) << "the drained call has its audit record";
  EXPECT_LT(sleptAt, stoppedAt) << "recorded before broker.stop";
}

TEST_F(BrokerTest, SigtermStopsTheBrokerCleanlyAndAuditsIt) {
  start();
  ASSERT_TRUE(call("echo", "x").ok());
  EXPECT_EQ(broker_->stop(), 0);
  EXPECT_EQ(broker_->auditRecords({{"event", "broker.stop"}}).size(), 1u);
  struct stat st;
  EXPECT_NE(stat(broker_->socket().c_str(), &st), 0) << "socket removed";
}

}  // namespace
}  // namespace airlock::testing

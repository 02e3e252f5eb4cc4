// The audit log of a real airlockd: it verifies with `airlock audit verify`, doctored copies are
// named for what was done to them, a SIGKILL loses no answered call, and a full disk makes calls
// fail closed.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <kj/exception.h>

#include "audit/rotation_set.h"
#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/small_disk.h"
#include "tests/integration/support/echo_server.h"

namespace airlock::testing {
namespace {

std::string echoPolicy() {
  return R"(
[unit]
name = "probe"
worker = "test-probe_worker"

[[rule]]
id = "me-calls-probe"
allow = "call"
caller = ["tester"]
method = ["*"]
)";
}

std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

void writeLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (auto& line : lines) out << line << "\n";
}

// The problem lines of a verify run (everything but an "ok:" line).
std::vector<std::string> problemLines(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.rfind("ok:", 0) != 0) lines.push_back(line);
  }
  return lines;
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = runProgram({binDir() + "/airlock", "keygen", "--out", keys_.file("broker")});
    ASSERT_EQ(made.exitCode, 0) << made.output;
  }

  void start(std::vector<std::string> extraArgs, const std::string& auditPath = "") {
    BrokerOptions options;
    options.extraArgs = kj::mv(extraArgs);
    options.auditPath = auditPath;
    options.brokerKeyPrefix = keys_.file("broker");  // --key: the same key as in extraArgs
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"probe.toml", echoPolicy()}},
        std::map<std::string, std::string>{}, options);
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }
  std::vector<std::string> signedArgs() {
    return {"--key", keys_.file("broker.key"), "--anchor", anchorPath()};
  }
  std::string anchorPath() const { return keys_.file("anchor.jsonl"); }

  RunResult verify(const std::string& log, bool withAnchor = true) {
    return verifySet({log}, withAnchor);
  }
  RunResult verifySet(const std::vector<std::string>& files, bool withAnchor = true) {
    std::vector<std::string> argv = {binDir() + "/airlock", "audit", "verify"};
    argv.insert(argv.end(), files.begin(), files.end());
    // A stopped broker's log: it must be closed too (the live default would name an open tail).
    argv.insert(argv.end(), {"--key", keys_.file("broker.pub"), "--require-closed"});
    if (withAnchor) {
      argv.push_back("--anchor");
      argv.push_back(anchorPath());
    }
    return runProgram(argv);
  }

  // A cleanly stopped broker's log with `calls` echo calls and a checkpoint every 4 records.
  void writeRealLog(int calls) {
    std::vector<std::string> args = signedArgs();
    args.insert(args.end(), {"--checkpoint-every", "4"});
    start(args);
    auto client = broker_->connect();
    for (int i = 0; i < calls; ++i) {
      auto outcome = client.unit("probe").call("echo", "n" + std::to_string(i));
      ASSERT_TRUE(outcome.ok()) << outcome.describe();
    }
    ASSERT_EQ(broker_->stop(), 0) << broker_->log();
  }

  TempDir keys_;  // keys and the anchor: "off the host", outside the broker's directory
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(AuditTest, ALogWrittenByARealBrokerVerifiesWithItsKeyAndAnchor) {
  writeRealLog(12);
  auto records = broker_->auditRecords();
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back()["event"], "checkpoint");
  EXPECT_EQ(records.back()["closing"], true) << "a clean stop closes the log";
  EXPECT_GE(broker_->auditRecords({{"event", "checkpoint"}}).size(), 4u);

  auto result = verify(broker_->auditPath());
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_EQ(result.output.rfind("ok: " + std::to_string(records.size()) + " records, ", 0), 0u)
      << result.output;
  EXPECT_NE(result.output.find("chain intact, anchor matches"), std::string::npos)
      << result.output;
}

TEST_F(AuditTest, DoctoredCopiesOfARealLogFailNamingWhatWasDone) {
  writeRealLog(12);
  auto lines = readLines(broker_->auditPath());
  size_t call = 0;  // index of a call record with a record after it
  for (size_t i = 0; i + 2 < lines.size(); ++i) {
    if (lines[i].find("\"event\":\"call\"") != std::string::npos) call = i;
  }
  ASSERT_GT(call, 2u);
  std::string copy = broker_->dir().file("copy.jsonl");
  auto expectNamed = [&](std::vector<std::string> doctored, const std::string& what) {
    writeLines(copy, doctored);
    auto result = verify(copy);
    EXPECT_EQ(result.exitCode, 1) << what << ":\n" << result.output;
    EXPECT_NE(result.output.find(what), std::string::npos) << what << ":\n" << result.output;
    for (auto& line : problemLines(result.output)) {
      bool located = line.rfind(copy + ":", 0) == 0 || line.rfind(anchorPath() + ":", 0) == 0;
      EXPECT_TRUE(located) << "FILE:LINE: seq S: what — " << line;
    }
  };

  auto modified = lines;
  auto at = modified[call].find("\"result\":\"ok\"");
  ASSERT_NE(at, std::string::npos) << modified[call];
  modified[call].replace(at, 13, "\"result\":\"no\"");
  expectNamed(modified, "modified record");

  auto deleted = lines;
  deleted.erase(deleted.begin() + call);
  expectNamed(deleted, "deleted record");

  auto reordered = lines;
  std::swap(reordered[call - 1], reordered[call]);
  expectNamed(reordered, "reordered records");

  auto inserted = lines;
  inserted.insert(inserted.begin() + call + 2, lines[call]);
  expectNamed(inserted, "inserted record");

  auto cut = lines;
  cut.resize(call + 1);
  expectNamed(cut, "not closed cleanly");
  expectNamed(cut, "tail cut");  // the anchor has the later checkpoints

  RunResult wrongKey;
  {
    TempDir other;
    ASSERT_EQ(runProgram({binDir() + "/airlock", "keygen", "--out", other.file("x")}).exitCode, 0);
    wrongKey = runProgram({binDir() + "/airlock", "audit", "verify", broker_->auditPath(),
                           "--key", other.file("x.pub")});
  }
  EXPECT_EQ(wrongKey.exitCode, 1) << wrongKey.output;
  EXPECT_NE(wrongKey.output.find("wrong key"), std::string::npos) << wrongKey.output;
}

TEST_F(AuditTest, RecordsWaitingLongerThanCheckpointMsGetACheckpointFromTheTimer) {
  std::vector<std::string> args = signedArgs();
  args.insert(args.end(), {"--checkpoint-every", "100000", "--checkpoint-ms", "50"});
  start(args);
  ASSERT_TRUE(broker_->connect().unit("probe").call("echo", "x").ok());
  auto checkpoint = broker_->waitForRecord({{"event", "checkpoint"}});
  ASSERT_FALSE(checkpoint.is_null()) << "no checkpoint without a stop\n" << broker_->log();
  EXPECT_EQ(checkpoint["closing"], false);
}

TEST_F(AuditTest, SyncAlwaysModeWritesAVerifiableLog) {
  std::vector<std::string> args = signedArgs();
  args.insert(args.end(), {"--sync", "always"});
  start(args);
  auto client = broker_->connect();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.unit("probe").call("echo", "x").ok());
  ASSERT_EQ(broker_->stop(), 0);
  auto result = verify(broker_->auditPath());
  EXPECT_EQ(result.exitCode, 0) << result.output;
}

TEST_F(AuditTest, SigkillDuringAStreamOfCallsLosesNoAnsweredCallAndBreaksNoChain) {
  std::vector<std::string> args = {"--key", keys_.file("broker.key"), "--checkpoint-every", "7"};
  start(args);
  std::mutex mutex;
  std::vector<size_t> answered;  // payload sizes of calls answered ok
  std::atomic<bool> stopped{false};
  std::thread caller([&]() {
    try {
      auto client = broker_->connect();
      for (size_t size = 1; !stopped; ++size) {
        auto outcome = client.unit("probe").call("echo", std::string(size, 'x'));
        if (!outcome.ok()) break;
        std::lock_guard<std::mutex> lock(mutex);
        answered.push_back(size);
      }
    } catch (const kj::Exception&) {
      // the broker died under us: expected
    }
  });
  for (;;) {  // wait for progress, not for time
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (answered.size() >= 40) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  broker_->killHard();
  stopped = true;
  caller.join();

  for (size_t size : answered) {
    auto found = broker_->auditRecords(
        {{"event", "call"}, {"result", "ok"}, {"args", {{"method", "echo"}, {"payload_bytes", size}}}});
    EXPECT_EQ(found.size(), 1u) << "answered call with payload " << size << " has no record";
  }
  auto result = verify(broker_->auditPath(), /*withAnchor=*/false);
  EXPECT_EQ(result.exitCode, 1) << result.output;
  auto problems = problemLines(result.output);
  ASSERT_EQ(problems.size(), 1u) << result.output;
  EXPECT_NE(problems[0].find("not closed cleanly: truncated, or the broker was killed"),
            std::string::npos) << result.output;
}

TEST_F(AuditTest, ARotatedLogLosesNoCallAcrossFilesAndVerifiesAsASetButNotWithAFileGone) {
  std::vector<std::string> args = signedArgs();
  args.insert(args.end(), {"--checkpoint-every", "10", "--audit-rotate-bytes", "4000"});
  start(args);
  std::vector<std::string> answered;
  {
    auto client = broker_->connect();
    for (int i = 0; i < 80; ++i) {
      std::string payload = "call-" + std::to_string(i);
      auto outcome = client.unit("probe").call("echo", payload);
      ASSERT_TRUE(outcome.ok()) << outcome.describe();
      answered.push_back(payload);
    }
  }
  ASSERT_EQ(broker_->stop(), 0) << broker_->log();

  auto files = audit::listRotationSet(broker_->auditPath());
  ASSERT_GE(files.size(), 4u) << "4000-byte files should have rotated several times";
  size_t calls = 0;
  for (auto& file : files) {
    for (auto& line : readLines(file)) {
      auto record = nlohmann::json::parse(line);
      if (record["event"] == "call" && record["result"] == "ok") ++calls;
    }
  }
  EXPECT_EQ(calls, answered.size()) << "every answered call is in exactly one file of the set";

  auto whole = verifySet(files);
  EXPECT_EQ(whole.exitCode, 0) << whole.output;
  EXPECT_NE(whole.output.find("chain intact, anchor matches"), std::string::npos) << whole.output;

  auto missing = files;
  missing.erase(missing.begin() + 1);
  auto gap = verifySet(missing, /*withAnchor=*/false);
  EXPECT_EQ(gap.exitCode, 1) << gap.output;
  auto problems = problemLines(gap.output);
  ASSERT_EQ(problems.size(), 1u) << gap.output;
  EXPECT_EQ(problems[0].rfind(missing[1] + ":1: ", 0), 0u) << gap.output;
  EXPECT_NE(problems[0].find("file missing: this file continues "), std::string::npos)
      << gap.output;

  auto swapped = files;
  std::swap(swapped[1], swapped[2]);
  auto order = verifySet(swapped);
  EXPECT_EQ(order.exitCode, 1) << order.output;
  problems = problemLines(order.output);
  ASSERT_EQ(problems.size(), 1u) << order.output;
  EXPECT_NE(problems[0].find("files out of order: this file continues " + swapped[2]),
            std::string::npos) << order.output;
}

TEST_F(AuditTest, AFullDiskMakesCallsFailClosedWithAnInternalError) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  SmallDisk disk;
  if (!disk.mounted()) GTEST_SKIP() << "mount -t tmpfs failed: " << strerror(errno);
  start({"--key", keys_.file("broker.key"), "--checkpoint-every", "10"}, disk.file("audit.jsonl"));

  auto client = broker_->connect();
  size_t ok = 0;
  CallOutcome refused = client.unit("probe").call("echo", "x");
  for (int i = 0; i < 5000 && refused.ok(); ++i) {
    ++ok;
    refused = client.unit("probe").call("echo", "x");
  }
  ASSERT_FALSE(refused.ok()) << "64 KiB never filled up";
  EXPECT_EQ(refused.errorKind(), CallErrorKind::INTERNAL) << refused.describe();
  EXPECT_NE(refused.message().find("audit log"), std::string::npos) << refused.message();
  auto again = client.unit("probe").call("print", "printed-while-the-disk-is-full");
  EXPECT_EQ(again.errorKind(), CallErrorKind::INTERNAL) << "still full, still refused";
  // Refused before any worker saw it: the worker would have printed it to airlockd's log.
  EXPECT_EQ(broker_->log().find("printed-while-the-disk-is-full"), std::string::npos)
      << "a call the log could not record reached a worker";
  EXPECT_NE(broker_->log().find("audit append failed"), std::string::npos) << "said loudly";

  ASSERT_GT(ok, 0u);
  EXPECT_EQ(broker_->auditRecords({{"event", "call"}, {"result", "ok"}}).size(), ok)
      << "every answered call is recorded, and nothing unanswered is";
  broker_->stop();
  auto result = verify(broker_->auditPath(), /*withAnchor=*/false);
  for (auto& line : problemLines(result.output)) {
    EXPECT_NE(line.find("not closed cleanly"), std::string::npos)
        << "the log holds only whole, chained records: " << line;
  }
}

// A change outside the broker is recorded before it is made: with the log's disk filled after the
// call was admitted and before the worker asks for the change, nothing is made, for every
// operation that changes the tree, and no connection reaches a listener. (A fresh broker for
// each: a log that failed stays failed.)
TEST_F(AuditTest, AChangeTheLogCannotRecordIsNeverMade) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  std::string rules;
  for (const char* op : {"fs.mkdir", "fs.unlink", "fs.rename", "fs.symlink"}) {
    rules += std::string("\n[[rule]]\nid = \"") + op + "-work\"\nallow = \"" + op +
             "\"\npath = \"${tmp}/work/**\"\n";
  }
  rules += "\n[[rule]]\nid = \"open-work\"\nallow = \"fs.open\"\npath = \"${tmp}/work/**\"\n"
           "mode = [\"read\", \"write\", \"create\"]\n";
  rules += "\n[[rule]]\nid = \"tcp-here\"\nallow = \"net.connect\"\nhost = [\"127.0.0.1\"]\n"
           "port = [\"1024-65535\"]\n";
  rules += "\n[[rule]]\nid = \"unix-here\"\nallow = \"net.connect\"\n"
           "unix_path = \"${sockets}/*.sock\"\n";
  std::string policy = "[unit]\nname = \"fs\"\nworker = \"test-fs_worker\"\n\n"
                       "[[rule]]\nid = \"tester-calls\"\nallow = \"call\"\ncaller = [\"tester\"]\n"
                       "method = [\"*\"]\n" + rules;
  struct Change {
    std::string op, arg, second, madeOrGone;  // madeOrGone: the path the change would touch
    bool wouldExist;
  };
  // The connects' listeners: what would happen is a connection they accept.
  TempDir sockets;
  EchoServer tcpListener = EchoServer::tcp();
  EchoServer unixListener = EchoServer::unix(sockets.file("listener.sock"));
  std::vector<Change> changes = {
      {"mkdir", "work/new-dir", "", "work/new-dir", true},
      {"unlink", "work/victim", "", "work/victim", false},
      {"rename", "work/victim", "work/renamed", "work/renamed", true},
      {"symlink", "victim", "work/link", "work/link", true},
      {"create", "work/created", "", "work/created", true},
      {"temp", "work", "", "", false},  // a random name: the directory is checked whole below
      {"connect", "", "", "", false},
      {"connect-unix", "", "", "", false},
  };
  for (auto& change : changes) {
    SCOPED_TRACE(change.op);
    SmallDisk disk;
    if (!disk.mounted()) GTEST_SKIP() << "mount -t tmpfs failed: " << strerror(errno);
    BrokerOptions options;
    options.auditPath = disk.file("audit.jsonl");
    BrokerProcess broker({{"fs.toml", policy}}, {{"sockets", sockets.path()}}, options);
    auto in = [&](const std::string& name) { return broker.dir().file(name); };
    ASSERT_EQ(mkdir(in("work").c_str(), 0755), 0);
    broker.dir().write("work/victim", "still here");
    ASSERT_TRUE(broker.restart()) << broker.log();  // the granted root opens at load
    std::string first = change.op == "symlink" ? change.arg : in(change.arg);
    std::string second = change.second.empty() ? "" : "\n" + in(change.second);
    if (change.op == "connect") {
      first = "127.0.0.1";
      second = "\n" + std::to_string(tcpListener.port());
    } else if (change.op == "connect-unix") {
      first = sockets.file("listener.sock");
    } else if (change.op == "temp") {
      second = "\ntmp-";  // the name's prefix, not a path
    }
    auto call = std::async(std::launch::async, [&]() {
      return broker.connect().unit("fs").call("later", "700\n" + change.op + "\n" + first + second);
    });
    ASSERT_FALSE(broker.waitForRecord({{"event", "call.admitted"}}).is_null()) << broker.log();
    ASSERT_TRUE(disk.fillUntilTheLogFails(broker)) << "the log is full";
    auto outcome = call.get();
    EXPECT_FALSE(outcome.ok()) << outcome.describe();
    if (!change.madeOrGone.empty()) {
      EXPECT_EQ(pathExists(in(change.madeOrGone)), !change.wouldExist)
          << "the change was made though the log could not record it";
    }
    EXPECT_EQ(readFile(in("work/victim")), "still here") << "the file a change names is untouched";
    std::vector<std::string> entries;
    for (auto& entry : std::filesystem::directory_iterator(in("work"))) {
      entries.push_back(entry.path().filename().string());
    }
    if (change.op != "rename" && change.op != "mkdir" && change.op != "symlink" &&
        change.op != "create") {
      EXPECT_EQ(entries, std::vector<std::string>{"victim"}) << "nothing was made in work/";
    }
  }
  EXPECT_EQ(tcpListener.accepted(), 0) << "a connect happened though the log could not record it";
  EXPECT_EQ(unixListener.accepted(), 0) << "a connect happened though the log could not record it";
}

TEST_F(AuditTest, AirlockdRefusesAPrivateKeyOthersCanRead) {
  ASSERT_EQ(chmod(keys_.file("broker.key").c_str(), 0640), 0);
  TempDir dir;
  mkdir(dir.file("policies").c_str(), 0755);
  dir.write("policies/probe.toml", echoPolicy());
  auto result = runProgram({binDir() + "/airlockd", "--policies", dir.file("policies"), "--socket",
                            dir.file("s"), "--audit", dir.file("a"), "--workers", binDir(),
                            "--key", keys_.file("broker.key"), "--client-keys", dir.path()});
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_NE(result.output.find("mode 0640, it must be 0600"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("not starting"), std::string::npos) << result.output;
}

TEST_F(AuditTest, AirlockdRefusesAPrivateKeyOwnedByAnotherUser) {
  if (geteuid() != 0) GTEST_SKIP() << "giving a file to another uid needs root";
  ASSERT_EQ(chown(keys_.file("broker.key").c_str(), 65534, 65534), 0);
  TempDir dir;
  mkdir(dir.file("policies").c_str(), 0755);
  dir.write("policies/probe.toml", echoPolicy());
  auto result = runProgram({binDir() + "/airlockd", "--policies", dir.file("policies"), "--socket",
                            dir.file("s"), "--audit", dir.file("a"), "--workers", binDir(),
                            "--key", keys_.file("broker.key"), "--client-keys", dir.path()});
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_NE(result.output.find("owned by uid 65534, not by this process's uid 0"),
            std::string::npos) << result.output;
}

// A script that appends its stdin to `anchor`, as `ssh host 'cat >> FILE'` would on another
// host; it fails (reading nothing) while the file `failFlag` exists.
std::string writeAnchorScript(const TempDir& dir, const std::string& anchor,
                              const std::string& failFlag) {
  dir.write("anchor.sh", "#!/bin/sh\nif [ -e '" + failFlag + "' ]; then exit 7; fi\n"
                         "exec cat >> '" + anchor + "'\n");
  chmod(dir.file("anchor.sh").c_str(), 0755);
  return dir.file("anchor.sh");
}

TEST_F(AuditTest, WhatAnAnchorCommandStoredVerifiesAsTheAnchorOfTheLog) {
  std::string script = writeAnchorScript(keys_, anchorPath(), keys_.file("no-such-flag"));
  start({"--key", keys_.file("broker.key"), "--anchor-command", script, "--checkpoint-every", "4"});
  auto client = broker_->connect();
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(client.unit("probe").call("echo", "x").ok());
  ASSERT_EQ(broker_->stop(), 0) << broker_->log();
  EXPECT_TRUE(broker_->auditRecords({{"event", "anchor.failed"}}).empty()) << broker_->log();

  auto result = verify(broker_->auditPath());  // --anchor: the file the script appended to
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_NE(result.output.find("chain intact, anchor matches"), std::string::npos)
      << result.output;
  // The closing checkpoint too: the last run happens before airlockd exits.
  EXPECT_EQ(readLines(anchorPath()).back(), readLines(broker_->auditPath()).back());
}

TEST_F(AuditTest, AFailingAnchorCommandIsRecordedAndCallsAreStillAnswered) {
  start({"--key", keys_.file("broker.key"), "--anchor-command", "cat > /dev/null; exit 7",
         "--checkpoint-every", "4"});
  auto client = broker_->connect();
  for (int i = 0; i < 12; ++i) {
    auto outcome = client.unit("probe").call("echo", "x");
    ASSERT_TRUE(outcome.ok()) << outcome.describe();
  }
  auto failed = broker_->waitForRecord({{"event", "anchor.failed"}});
  ASSERT_FALSE(failed.is_null()) << broker_->log();
  EXPECT_EQ(failed["args"]["exit_status"], 7);
  EXPECT_EQ(failed["result"], "exited with status 7");
  EXPECT_EQ(failed["args"]["timed_out"], false);
  ASSERT_EQ(broker_->stop(), 0) << broker_->log();
  EXPECT_NE(broker_->log().find("the anchor command did not take the checkpoints"),
            std::string::npos) << broker_->log();

  // Every report names checkpoints of the log, and no report caused a checkpoint of its own: at
  // most one failed run per checkpoint, so failures cannot feed themselves.
  auto checkpoints = broker_->auditRecords({{"event", "checkpoint"}});
  std::set<uint64_t> checkpointSeqs;
  for (auto& c : checkpoints) checkpointSeqs.insert(c["seq"].get<uint64_t>());
  auto reports = broker_->auditRecords({{"event", "anchor.failed"}});
  EXPECT_LE(reports.size(), checkpoints.size());
  for (auto& report : reports) {
    EXPECT_EQ(checkpointSeqs.count(report["args"]["first_seq"].get<uint64_t>()), 1u) << report;
    EXPECT_EQ(checkpointSeqs.count(report["args"]["last_seq"].get<uint64_t>()), 1u) << report;
  }
  auto result = verify(broker_->auditPath(), /*withAnchor=*/false);
  EXPECT_EQ(result.exitCode, 0) << result.output;
}

TEST_F(AuditTest, CheckpointsAnAnchorCommandMissedReachItWhenItWorksAgain) {
  std::string flag = keys_.file("anchor-down");
  keys_.write("anchor-down", "");
  std::string script = writeAnchorScript(keys_, anchorPath(), flag);
  start({"--key", keys_.file("broker.key"), "--anchor-command", script, "--checkpoint-every", "4"});
  auto client = broker_->connect();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(client.unit("probe").call("echo", "x").ok());
  ASSERT_FALSE(broker_->waitForRecord({{"event", "anchor.failed"}}).is_null()) << broker_->log();
  unlink(flag.c_str());
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(client.unit("probe").call("echo", "x").ok());
  ASSERT_EQ(broker_->stop(), 0) << broker_->log();

  auto result = verify(broker_->auditPath());
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_NE(result.output.find("anchor matches"), std::string::npos) << result.output;
  auto first = broker_->auditRecords({{"event", "checkpoint"}}).front();
  auto anchored = nlohmann::json::parse(readLines(anchorPath()).front());
  EXPECT_EQ(anchored["seq"], first["seq"]) << "the first checkpoint was retried";
}

// The --help texts are the reference in docs/cli.md, verbatim.
TEST(AuditCliHelp, KeygenAndVerifyHelpAreInTheDocsVerbatim) {
  std::ifstream in(std::string(AIRLOCK_SOURCE_DIR) + "/docs/cli.md");
  std::stringstream docs;
  docs << in.rdbuf();
  for (auto command : {std::vector<std::string>{"keygen", "--help"},
                       std::vector<std::string>{"audit", "verify", "--help"}}) {
    command.insert(command.begin(), binDir() + "/airlock");
    auto help = runProgram(command);
    EXPECT_EQ(help.exitCode, 0);
    EXPECT_NE(docs.str().find(help.output), std::string::npos)
        << "docs/cli.md does not contain:\n" << help.output;
  }
  auto airlockd = runProgram({binDir() + "/airlockd", "--help"});
  for (auto option : {"--key FILE", "--client-keys DIR", "--checkpoint-every N", "--checkpoint-ms T", "--anchor FILE",
                      "--anchor-command CMD",
                      "--sync MODE", "--sync-window-ms T", "--audit-rotate-bytes N"}) {
    EXPECT_NE(airlockd.output.find(option), std::string::npos) << option;
    EXPECT_NE(docs.str().find(option), std::string::npos) << "docs/cli.md lacks " << option;
  }
}

}  // namespace
}  // namespace airlock::testing

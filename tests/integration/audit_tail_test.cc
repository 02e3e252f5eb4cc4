// `airlock audit tail` as a running process: the last N records of a real airlockd's log, the
// records appended while it follows, no partial line ever, a rotated file, and a clean stop on
// SIGINT and SIGTERM.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kj/io.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

constexpr int GENEROUS_SECONDS = 30;  // a bound on a hang, never a performance threshold

std::vector<std::string> fileLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

void append(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << bytes;
}

// `airlock audit tail ARGS...` running, its stdout on a pipe; killed and reaped if still running
// when the object dies.
class TailProcess {
 public:
  // `stderrPath`: where its stderr goes (empty: the test's).
  explicit TailProcess(const std::vector<std::string>& args, const std::string& stderrPath = "") {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      if (!stderrPath.empty()) {
        int err = open(stderrPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (err < 0 || dup2(err, 2) < 0) _exit(126);
      }
      std::vector<std::string> argv = {binDir() + "/airlock", "audit", "tail"};
      argv.insert(argv.end(), args.begin(), args.end());
      std::vector<char*> raw;
      for (auto& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
      raw.push_back(nullptr);
      execv(raw[0], raw.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = kj::AutoCloseFd(fds[0]);
  }
  ~TailProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Reads until `count` more whole lines have arrived (or the bound passes, or EOF).
  std::vector<std::string> readLines(size_t count) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(GENEROUS_SECONDS);
    std::vector<std::string> lines;
    while (lines.size() < count && std::chrono::steady_clock::now() < deadline) {
      auto newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        lines.push_back(buffer_.substr(0, newline));
        buffer_.erase(0, newline + 1);
        continue;
      }
      if (!readSome(500)) break;
    }
    return lines;
  }

  // Sends `signal` and waits for the exit; returns the exit status (128+N if killed by N).
  int stop(int signal) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    while (readSome(0)) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // Waits (at most GENEROUS_SECONDS, then SIGKILL) for it to exit by itself; its exit status.
  int waitExit() {
    int status = 0;
    for (int tries = 0; tries < GENEROUS_SECONDS * 10; ++tries) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        while (readSome(0)) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      usleep(100000);
    }
    return stop(SIGKILL);
  }
  const std::string& unread() const { return buffer_; }

 private:
  bool readSome(int timeoutMs) {
    struct pollfd waiting = {out_.get(), POLLIN, 0};
    if (poll(&waiting, 1, timeoutMs) <= 0) return timeoutMs > 0;  // nothing yet: keep waiting
    char chunk[4096];
    ssize_t n = read(out_.get(), chunk, sizeof(chunk));
    if (n <= 0) return false;
    buffer_.append(chunk, n);
    return true;
  }

  pid_t pid_ = -1;
  kj::AutoCloseFd out_;
  std::string buffer_;
};

std::string echoPolicy() {
  return R"(
[unit]
name = "probe"
worker = "test-probe_worker"

[[rule]]
id = "tester-calls-probe"
allow = "call"
caller = ["tester"]
method = ["*"]
)";
}

TEST(AuditTail, PrintsTheLastRecordsThenFollowsARealBrokersNewRecords) {
  BrokerProcess broker({{"probe.toml", echoPolicy()}});
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  auto client = broker.connect();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.unit("probe").call("echo", "before").ok());

  TailProcess tail({"-f", "-n", "2", broker.auditPath()});
  auto first = tail.readLines(2);
  ASSERT_EQ(first.size(), 2u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.unit("probe").call("echo", "after-" + std::to_string(i)).ok());
  }
  // Every line from the first shown on, up to the third call's record, in file order.
  std::vector<std::string> shown = first;
  auto isAfterCall = [](const std::string& line) {
    return line.find("\"event\":\"call\"") != std::string::npos &&
           line.find("\"payload_bytes\":7") != std::string::npos;  // "after-N"; "before" is 6
  };
  for (size_t callsAfter = 0; callsAfter < 3;) {
    auto more = tail.readLines(1);
    ASSERT_EQ(more.size(), 1u) << "tail -f stopped showing records";
    shown.push_back(more[0]);
    callsAfter += isAfterCall(more[0]);
  }
  auto all = fileLines(broker.auditPath());
  auto at = std::find(all.begin(), all.end(), shown[0]);
  ASSERT_NE(at, all.end());
  for (size_t i = 0; i < shown.size(); ++i) {
    ASSERT_LT(at + i, all.end());
    EXPECT_EQ(shown[i], *(at + i)) << "line " << i << " is not the file's next line";
  }
  EXPECT_FALSE(isAfterCall(first[0]) || isAfterCall(first[1])) << "shown before those calls";
  EXPECT_EQ(tail.stop(SIGTERM), 0);
}

TEST(AuditTail, NeverPrintsAPartialLineAndFollowsARotatedLog) {
  // Real records to replay: a real broker's log.
  std::vector<std::string> records;
  {
    BrokerProcess broker({{"probe.toml", echoPolicy()}});
    ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
    auto client = broker.connect();
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(client.unit("probe").call("echo", "x").ok());
    ASSERT_EQ(broker.stop(), 0);
    records = fileLines(broker.auditPath());
  }
  ASSERT_GE(records.size(), 10u);
  TempDir dir;
  std::string log = dir.file("audit.jsonl");
  std::string someLines;
  for (int i = 0; i < 4; ++i) someLines += records[i] + "\n";
  append(log, someLines + records[4].substr(0, 10));  // ends in a partial line

  TailProcess tail({"-n", "3", "--follow", log});
  auto last = tail.readLines(3);
  ASSERT_EQ(last, (std::vector<std::string>{records[1], records[2], records[3]}))
      << "the last three whole lines, not the partial one";

  // The rest of line 5 with line 6 and half of 7 in one write: once line 6 is shown, tail has
  // read the half of 7, and must hold it back.
  append(log, records[4].substr(10) + "\n" + records[5] + "\n" + records[6].substr(0, 20));
  EXPECT_EQ(tail.readLines(2), (std::vector<std::string>{records[4], records[5]}));
  append(log, records[6].substr(20) + "\n");
  EXPECT_EQ(tail.readLines(1), (std::vector<std::string>{records[6]}))
      << "line 7 whole, never its first half alone";

  // Rotation: renamed away, one more line written to the old file, then a new file.
  ASSERT_EQ(rename(log.c_str(), dir.file("audit.jsonl.1").c_str()), 0);
  append(dir.file("audit.jsonl.1"), records[7] + "\n");
  append(log, records[8] + "\n" + records[9] + "\n");
  EXPECT_EQ(tail.readLines(3), (std::vector<std::string>{records[7], records[8], records[9]}));

  EXPECT_EQ(tail.stop(SIGINT), 0) << "SIGINT stops it cleanly";
  EXPECT_EQ(tail.unread(), "") << "nothing after the stop, no partial line";
}

TEST(AuditTail, WithoutFollowItPrintsTheLastLinesAndExits) {
  TempDir dir;
  std::string log = dir.file("a.jsonl");
  append(log, "1\n2\n3\npartial");
  auto two = runProgram({binDir() + "/airlock", "audit", "tail", "-n", "2", log});
  EXPECT_EQ(two.exitCode, 0);
  EXPECT_EQ(two.output, "2\n3\n");
  auto all = runProgram({binDir() + "/airlock", "audit", "tail", log});
  EXPECT_EQ(all.output, "1\n2\n3\n") << "default 10: all three whole lines";
  auto none = runProgram({binDir() + "/airlock", "audit", "tail", "-n", "0", log});
  EXPECT_EQ(none.output, "");
  auto missing = runProgram({binDir() + "/airlock", "audit", "tail", dir.file("nope")});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_EQ(missing.output, dir.file("nope") + ": cannot read: No such file or directory\n");
  auto badCount = runProgram({binDir() + "/airlock", "audit", "tail", "-n", "many", log});
  EXPECT_EQ(badCount.exitCode, 2);
  EXPECT_NE(badCount.output.find("-n \"many\" is not a number"), std::string::npos);
}

// --verify on a running airlockd's log: the records already there are checked from the first
// line, each one appended is checked before it is shown, and a forged line stops the command at
// once with the finding, the line itself not shown.
TEST(AuditTail, VerifyFollowsARealBrokersLogAndStopsAtTheLineThatBreaksTheChain) {
  BrokerOptions options;
  // No timer checkpoints: nothing but the test's calls writes while the forged line goes in.
  options.extraArgs = {"--checkpoint-ms", "600000", "--checkpoint-every", "4"};
  BrokerProcess broker(std::map<std::string, std::string>{{"probe.toml", echoPolicy()}},
                       std::map<std::string, std::string>{}, options);
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  auto client = broker.connect();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.unit("probe").call("echo", "before").ok());

  TempDir scratch;
  TailProcess tail({"-f", "--verify", "--key", broker.brokerPublicKey(), "-n", "1",
                    broker.auditPath()}, scratch.file("stderr"));
  ASSERT_EQ(tail.readLines(1).size(), 1u) << readFile(scratch.file("stderr"));
  ASSERT_TRUE(client.unit("probe").call("echo", "after").ok());
  // call.admitted and call, and a checkpoint every 4 records: whatever came, in file order.
  auto all = fileLines(broker.auditPath());
  auto shown = tail.readLines(2);
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_NE(std::find(all.begin(), all.end(), shown[1]), all.end());
  size_t more = all.end() - std::find(all.begin(), all.end(), shown[1]) - 1;
  ASSERT_EQ(tail.readLines(more).size(), more);
  EXPECT_EQ(readFile(scratch.file("stderr")), "") << "every real record continues the chain";

  // A forged record: the next seq, in airlockd's form, but not chained to the line before it.
  auto last = nlohmann::ordered_json::parse(all.back());
  nlohmann::ordered_json forged = {{"seq", last["seq"].get<uint64_t>() + 1},
                                   {"time", last["time"]},
                                   {"event", "call"},
                                   {"prev", std::string(64, 'a')},
                                   {"unit", "probe"}};
  append(broker.auditPath(), forged.dump() + "\n");
  EXPECT_EQ(tail.waitExit(), 1) << "it stops by itself";
  EXPECT_EQ(readFile(scratch.file("stderr")),
            broker.auditPath() + ": seq " + std::to_string(forged["seq"].get<uint64_t>()) +
                ": modified record: its prev is not the hash of the line before it (seq " +
                std::to_string(last["seq"].get<uint64_t>()) + ")\n");
  EXPECT_EQ(tail.unread(), "") << "the forged line is never shown";

  // Started on the broken log, it names the break before showing anything.
  auto again = runProgram({binDir() + "/airlock", "audit", "tail", "--verify", "-n", "3",
                           broker.auditPath()});
  EXPECT_EQ(again.exitCode, 1);
  EXPECT_NE(again.output.find(": modified record: its prev is not the hash"), std::string::npos)
      << again.output;
  EXPECT_EQ(again.output.find("\"event\""), std::string::npos) << again.output;
}

}  // namespace
}  // namespace airlock::testing

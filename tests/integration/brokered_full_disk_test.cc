// Record before acting, for a program's own calls: when the audit log can no longer take a
// record, a change a sandboxed program makes itself (mkdir, unlink, rename, symlink, a create,
// chmod, truncate, utimes, a connect) is never made, and the program gets EIO. `airlock run`
// with its log on a 64 KiB tmpfs; the program fills nothing itself: the test fills the disk
// while the program waits on its stdin, then lets it go.

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/echo_server.h"
#include "tests/integration/support/small_disk.h"

extern char** environ;

namespace airlock::testing {
namespace {

// A program with its stdin and stdout (stderr too) on pipes to the test.
class FedProcess {
 public:
  explicit FedProcess(const std::vector<std::string>& argv) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, out[1], 2);
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    in_ = in[1];
    out_ = out[0];
  }
  ~FedProcess() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (in_ >= 0) close(in_);
    if (out_ >= 0) close(out_);
  }

  // Output up to and including the first `line` (within 30 s), or everything read by then.
  std::string readUntil(const std::string& line) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (output_.find(line) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      if (!readSome(1000)) break;
    }
    return output_;
  }
  void send(const std::string& text) {
    if (write(in_, text.data(), text.size()) < 0) ADD_FAILURE() << "write to stdin";
    close(in_);
    in_ = -1;
  }
  // Waits (at most 30 s) for the exit; the whole output.
  RunResult finish() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline && readSome(1000)) {
    }
    int status = 0;
    if (waitpid(pid_, &status, 0) == pid_) reaped_ = true;
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output_};
  }

 private:
  bool readSome(int timeoutMs) {
    struct pollfd p = {out_, POLLIN, 0};
    if (poll(&p, 1, timeoutMs) <= 0) return false;
    char buffer[4096];
    ssize_t n = read(out_, buffer, sizeof(buffer));
    if (n <= 0) return false;
    output_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  bool reaped_ = false;
  std::string output_;
};

TEST(BrokeredFullDiskTest, AChangeAProgramMakesItselfIsNeverMadeWhenTheLogCannotRecordIt) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  EchoServer listener = EchoServer::tcp();
  struct Change {
    std::string op, code;
  };
  // Each runs after the log has failed: the allowed read before it is the probe that says so.
  std::vector<Change> changes = {
      {"mkdir", "os.mkdir(W + 'new-dir')"},
      {"unlink", "os.unlink(W + 'victim')"},
      {"rename", "os.rename(W + 'victim', W + 'renamed')"},
      {"symlink", "os.symlink('victim', W + 'link')"},
      {"create", "open(W + 'created', 'w')"},
      {"chmod", "os.chmod(W + 'victim', 0o600)"},
      {"truncate", "os.truncate(W + 'victim', 0)"},
      {"utime", "os.utime(W + 'victim', (0, 0))"},
      {"connect", "socket.create_connection(('127.0.0.1', " + std::to_string(listener.port()) +
                      "))"},
  };
  for (auto& change : changes) {
    SCOPED_TRACE(change.op);
    SmallDisk disk;
    if (!disk.mounted()) GTEST_SKIP() << "mount -t tmpfs failed: " << strerror(errno);
    TempDir dir;
    ASSERT_EQ(mkdir(dir.file("work").c_str(), 0755), 0);
    dir.write("work/victim", "still here");
    ASSERT_EQ(chmod(dir.file("work/victim").c_str(), 0644), 0);
    std::string work = dir.file("work");
    std::string rules;
    for (const char* op : {"fs.mkdir", "fs.unlink", "fs.rename", "fs.symlink", "fs.stat"}) {
      rules += std::string("[[rule]]\nid = \"") + op + "\"\nallow = \"" + op + "\"\npath = \"" +
               work + "/**\"\n\n";
    }
    dir.write("policy.toml",
              "[unit]\nname = \"run\"\n\n[sandbox]\nsyscalls = [\"system-info\", "
              "\"nss-without-daemons\"]\n\n" + rules +
              "[[rule]]\nid = \"open\"\nallow = \"fs.open\"\npath = \"" + work +
              "/**\"\nmode = [\"read\", \"write\", \"create\", \"truncate\"]\n\n"
              "[[rule]]\nid = \"tcp\"\nallow = \"net.connect\"\nhost = [\"127.0.0.1\"]\n"
              "port = [" + std::to_string(listener.port()) + "]\n");
    std::string script =
        "import os, sys, socket\n"
        "W = '" + work + "/'\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read(1)\n"
        "for i in range(2000):\n"
        "  try:\n    open(W + 'victim').read()\n"
        "  except OSError as e:\n    print('log failed:', e.errno == 5); break\n"
        "try:\n  " + change.code + "\n  print('made')\n"
        "except OSError as e:\n  print('refused:', os.strerror(e.errno))\n";
    FedProcess run({binDir() + "/airlock", "run", "--policy", dir.file("policy.toml"), "--audit",
                    disk.file("audit.jsonl"), "--", "/usr/bin/python3", "-c", script});
    if (run.readUntil("ready\n").find("ready\n") == std::string::npos) {
      FAIL() << "the program never got ready: " << run.finish().output;
    }
    {
      std::ofstream filler(disk.file("filler"), std::ios::binary);
      std::string block(4096, 'f');
      while (filler.write(block.data(), block.size())) {
      }
    }
    run.send("g");
    auto result = run.finish();
    EXPECT_NE(result.output.find("log failed: True\nrefused: Input/output error\n"),
              std::string::npos) << result.output;
    // Host-side evidence: the tree and the file are as they were.
    std::vector<std::string> entries;
    for (auto& entry : std::filesystem::directory_iterator(work)) {
      entries.push_back(entry.path().filename().string());
    }
    EXPECT_EQ(entries, std::vector<std::string>{"victim"});
    EXPECT_EQ(readFile(dir.file("work/victim")), "still here");
    struct stat st;
    ASSERT_EQ(stat(dir.file("work/victim").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_NE(st.st_mtime, 0);
  }
  EXPECT_EQ(listener.accepted(), 0) << "a connect happened though the log could not record it";
}

}  // namespace
}  // namespace airlock::testing

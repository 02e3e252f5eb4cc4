// Descriptor grants through a real airlockd and real sandboxed workers: the host hands a call its
// own open file under a name (`Grant::fd`, `airlock call --grant-fd`), and the worker opening that
// name gets the host's file, never more than the host's descriptor permits, never the host's own
// file description, and nothing else. The host's files live where no rule of the unit reaches.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <kj/io.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

const char UPLOADS_POLICY[] = R"(
[unit]
name = "uploads"
worker = "test-probe_worker"
worker_reuse = "never"          # a worker handed a host's file ends with its call

[[rule]]
id = "tester-calls-uploads"
allow = "call"
caller = ["tester"]
method = ["read", "append", "write-through-read"]

[[rule]]
id = "tester-hands-uploads"
allow = "grant"
caller = ["tester"]
path = "${tmp}/uploads/*"
mode = ["read", "write", "append"]
descriptors = ["regular"]

[[rule]]
id = "uploads-as-granted"
allow = "fs.open"
path = "${tmp}/uploads/**"
mode = ["read", "write", "append"]
granted_only = true
)";

// The same unit's paths granted by a rule that takes no descriptors.
const char PATHS_ONLY_POLICY[] = R"(
[unit]
name = "paths-only"
worker = "test-probe_worker"

[[rule]]
id = "tester-calls-paths-only"
allow = "call"
caller = ["tester"]
method = ["read"]

[[rule]]
id = "tester-grants-paths"
allow = "grant"
caller = ["tester"]
path = "${tmp}/uploads/*"
mode = ["read"]

[[rule]]
id = "paths-as-granted"
allow = "fs.open"
path = "${tmp}/uploads/**"
mode = ["read"]
granted_only = true
)";

// How many of `pid`'s descriptors are open on `path` (what /proc/PID/fd/N links to).
size_t descriptorsOn(pid_t pid, const std::string& path) {
  size_t count = 0;
  for (auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code error;
    if (std::filesystem::read_symlink(entry.path(), error) == path) ++count;
  }
  return count;
}

// Waits (up to 5 s) until `pid` holds no descriptor on `path`; false if it still does.
bool releasesEveryDescriptorOn(pid_t pid, const std::string& path) {
  for (int i = 0; i < 500; ++i) {
    if (descriptorsOn(pid, path) == 0) return true;
    usleep(10'000);
  }
  return false;
}

class GrantDescriptorsTest : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> policies) {
    broker_ = std::make_unique<BrokerProcess>(std::move(policies));
    ASSERT_EQ(mkdir(broker_->dir().file("uploads").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(broker_->dir().file("private").c_str(), 0700), 0);
    broker_->dir().write("private/report.txt", "the host's report");
    ASSERT_TRUE(broker_->restart()) << broker_->log();  // the granted root opens at load
    hostFile_ = broker_->dir().file("private/report.txt");
    name_ = broker_->dir().file("uploads/report.txt");  // nothing is there
  }
  void SetUp() override {
    start({{"uploads.toml", UPLOADS_POLICY}, {"paths-only.toml", PATHS_ONLY_POLICY}});
  }

  kj::AutoCloseFd openHostFile(int flags) {
    int fd = open(hostFile_.c_str(), flags | O_CLOEXEC);
    EXPECT_GE(fd, 0) << hostFile_;
    return kj::AutoCloseFd(fd);
  }

  std::unique_ptr<BrokerProcess> broker_;
  std::string hostFile_, name_;
};

TEST_F(GrantDescriptorsTest, TheWorkerOpeningTheGrantedNameGetsTheHostsFileAndNothingElse) {
  auto client = broker_->connect();
  auto fd = openHostFile(O_RDONLY);
  std::vector<Grant> handed{{name_, {GrantMode::READ}, fd.get()}};

  auto read = client.unit("uploads").call("read", name_, handed);
  ASSERT_TRUE(read.ok()) << read.describe() << "\n" << broker_->log();
  EXPECT_EQ(read.payload(), "the host's report");
  // A fresh description: the worker's reading moved the host's offset nowhere.
  EXPECT_EQ(lseek(fd.get(), 0, SEEK_CUR), 0);

  // The same grant does not reach the file by its real path, where no rule reaches.
  auto real = client.unit("uploads").call("read", hostFile_, handed);
  EXPECT_FALSE(real.ok());
  EXPECT_NE(real.message().find("denied by rule default-deny"), std::string::npos)
      << real.describe();
  // Without the grant the name reaches nothing (nothing is at it).
  EXPECT_FALSE(client.unit("uploads").call("read", name_).ok());

  auto calls = broker_->auditRecords({{"event", "call"}});
  ASSERT_EQ(calls.size(), 3u) << broker_->log();
  auto& descriptor = calls[0]["args"]["grants"][0]["descriptor"];
  EXPECT_EQ(descriptor["kind"], "regular") << calls[0].dump();
  EXPECT_EQ(descriptor["access"], "read");
  struct stat st;
  ASSERT_EQ(stat(hostFile_.c_str(), &st), 0);
  EXPECT_EQ(descriptor["inode"], st.st_ino);
  auto opened = broker_->auditRecords({{"event", "fs.open"}, {"decision", "allow"}});
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0]["rule"], "tester-hands-uploads#0");
  EXPECT_EQ(opened[0]["args"]["path"], name_);
  EXPECT_EQ(opened[0]["call_id"], calls[0]["call_id"]);

  // The broker's copies of the host's descriptor are gone with their calls.
  EXPECT_TRUE(releasesEveryDescriptorOn(broker_->pid(), hostFile_));
}

TEST_F(GrantDescriptorsTest, AGrantIsNeverWiderThanTheHostsDescriptor) {
  auto client = broker_->connect();
  // Read-only descriptor, write asked: refused before any worker, the call on record.
  auto readOnly = openHostFile(O_RDONLY);
  auto wider = client.unit("uploads").call(
      "append", name_ + "\nx", {{name_, {GrantMode::WRITE, GrantMode::APPEND}, readOnly.get()}});
  EXPECT_EQ(wider.errorKind(), CallErrorKind::BAD_REQUEST) << wider.describe();
  EXPECT_EQ(wider.ruleId(), "call.grant_descriptor");
  EXPECT_NE(wider.message().find("permits only read"), std::string::npos) << wider.message();
  EXPECT_TRUE(broker_->auditRecords({{"event", "call.admitted"}}).empty());
  auto refused = broker_->auditRecords({{"event", "call"}});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0]["decision"], "deny");
  EXPECT_EQ(refused[0]["rule"], "call.grant_descriptor");

  // A read grant of a read-write descriptor hands the worker no writable description.
  auto readWrite = openHostFile(O_RDWR);
  auto through = client.unit("uploads").call("write-through-read", name_,
                                             {{name_, {GrantMode::READ}, readWrite.get()}});
  ASSERT_TRUE(through.ok()) << through.describe();
  EXPECT_EQ(through.payload(), "errno EBADF");
  EXPECT_EQ(readFile(hostFile_), "the host's report");

  // An append-only descriptor: write without append is wider; with append the worker appends.
  auto appendOnly = openHostFile(O_WRONLY | O_APPEND);
  auto overwrite = client.unit("uploads").call(
      "append", name_ + "\nx", {{name_, {GrantMode::WRITE}, appendOnly.get()}});
  EXPECT_EQ(overwrite.errorKind(), CallErrorKind::BAD_REQUEST) << overwrite.describe();
  EXPECT_NE(overwrite.message().find("appends only"), std::string::npos) << overwrite.message();
  auto append = client.unit("uploads").call(
      "append", name_ + "\n, appended",
      {{name_, {GrantMode::WRITE, GrantMode::APPEND}, appendOnly.get()}});
  ASSERT_TRUE(append.ok()) << append.describe() << "\n" << broker_->log();
  EXPECT_EQ(readFile(hostFile_), "the host's report, appended");
}

TEST_F(GrantDescriptorsTest, APipeIsNeverHandedAndARuleWithoutDescriptorsAdmitsNone) {
  auto client = broker_->connect();
  int ends[2];
  ASSERT_EQ(pipe2(ends, O_CLOEXEC), 0);
  kj::AutoCloseFd readEnd(ends[0]), writeEnd(ends[1]);
  auto pipe = client.unit("uploads").call("read", name_, {{name_, {GrantMode::READ}, ends[0]}});
  EXPECT_EQ(pipe.errorKind(), CallErrorKind::BAD_REQUEST) << pipe.describe();
  EXPECT_NE(pipe.message().find("a pipe or FIFO: only regular files and directories"),
            std::string::npos) << pipe.message();

  // The grant rule of `paths-only` lists no descriptors: the same path, handed as a descriptor,
  // is decided like any grant no rule allows.
  auto fd = openHostFile(O_RDONLY);
  auto handed = client.unit("paths-only").call("read", name_, {{name_, {GrantMode::READ}, fd.get()}});
  EXPECT_EQ(handed.errorKind(), CallErrorKind::DENIED) << handed.describe();
  EXPECT_EQ(handed.ruleId(), "default-deny");
  EXPECT_NE(handed.message().find("grant a regular descriptor as " + name_), std::string::npos)
      << handed.message();
  EXPECT_TRUE(broker_->auditRecords({{"event", "call.admitted"}}).empty());
}

TEST_F(GrantDescriptorsTest, WithNoDescriptorRuleInThePolicyNoDescriptorEntersTheBroker) {
  broker_.reset();
  start({{"paths-only.toml", PATHS_ONLY_POLICY}});
  auto client = broker_->connect();
  auto fd = openHostFile(O_RDONLY);
  for (int i = 0; i < 20; ++i) {
    auto handed =
        client.unit("paths-only").call("read", name_, {{name_, {GrantMode::READ}, fd.get()}});
    EXPECT_EQ(handed.errorKind(), CallErrorKind::BAD_REQUEST) << handed.describe();
    EXPECT_NE(handed.message().find("no descriptor arrived with it"), std::string::npos)
        << handed.message();
    // The kernel closed it on receipt: airlockd never held the host's file, not even for a call.
    EXPECT_EQ(descriptorsOn(broker_->pid(), hostFile_), 0u);
  }
}

TEST_F(GrantDescriptorsTest, AirlockCallHandsADescriptorFromTheShell) {
  auto call = [this](const std::string& grant) {
    std::string command = "exec " + binDir() + "/airlock call --socket " + broker_->socket() +
                          " --key " + broker_->clientKey() + " --broker-key " +
                          broker_->brokerPublicKey() + " --grant-fd '" + grant + "' uploads read " +
                          name_ + " 3<" + hostFile_;
    return runProgram({"/bin/sh", "-c", command});
  };
  auto handed = call("3:" + name_ + ":r");
  EXPECT_EQ(handed.exitCode, 0) << handed.output;
  EXPECT_EQ(handed.output, "the host's report");
  auto wider = call("3:" + name_ + ":read,write");
  EXPECT_EQ(wider.exitCode, 1) << wider.output;
  EXPECT_NE(wider.output.find("permits only read"), std::string::npos) << wider.output;
  auto closed = call("7:" + name_ + ":read");
  EXPECT_EQ(closed.exitCode, 2) << closed.output;
  EXPECT_NE(closed.output.find("descriptor 7 is not open"), std::string::npos) << closed.output;
}

}  // namespace
}  // namespace airlock::testing

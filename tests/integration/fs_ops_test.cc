// fs.* beyond open through a real airlockd and the sandboxed fs worker: each operation allowed
// and denied, its audit record, and its effect on the disk; then the attacks (symlinks planted
// in a grant, targets that leave it, renames across roots or onto directories, renames that would
// carry a link the broker made out of its grant, a huge directory, device nodes).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

// The fsprobe unit, callable by the test client, with `rules`.
std::string fsPolicy(const std::string& rules) {
  return R"(
[unit]
name = "fsprobe"
worker = "test-fs_worker"
call_timeout_ms = 60000

[[rule]]
id = "me-calls"
allow = "call"
caller = ["tester"]
method = ["*"]
)" + rules;
}

const char FS_RULES[] = R"(
[[rule]]
id = "work-open"
allow = "fs.open"
path = "${tmp}/work/**"
mode = ["read", "write", "create"]

[[rule]]
id = "work-stat"
allow = "fs.stat"
path = "${tmp}/work/**"

[[rule]]
id = "work-list"
allow = "fs.list"
path = "${tmp}/work/**"

[[rule]]
id = "work-mkdir"
allow = "fs.mkdir"
path = "${tmp}/work/**"

[[rule]]
id = "work-unlink"
allow = "fs.unlink"
path = "${tmp}/work/**"

[[rule]]
id = "keep-unlink"
deny = "fs.unlink"
path = "${tmp}/work/keep/**"

[[rule]]
id = "work-rename"
allow = "fs.rename"
path = "${tmp}/work/**"

[[rule]]
id = "inner-rename"
allow = "fs.rename"
path = "${tmp}/work/inner/**"

[[rule]]
id = "other-rename"
allow = "fs.rename"
path = "${tmp}/other/**"

[[rule]]
id = "work-symlink"
allow = "fs.symlink"
path = "${tmp}/work/**"
)";

class FsOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"fsprobe.toml", fsPolicy(FS_RULES)}});
    for (auto dir : {"work", "work/keep", "work/sub", "work/inner", "other", "outside"}) {
      ASSERT_EQ(mkdir(file(dir).c_str(), 0755), 0) << dir;
    }
    broker_->dir().write("work/hello.txt", "hello\n");
    broker_->dir().write("work/keep/precious.txt", "precious\n");
    broker_->dir().write("outside/secret.txt", "top secret\n");
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  std::string file(const std::string& name) const { return broker_->dir().file(name); }

  CallOutcome call(const std::string& method, const std::string& payload) {
    auto client = broker_->connect();
    return client.unit("fsprobe").call(method, payload);
  }

  // The last record of `event`, which must exist.
  nlohmann::json last(const std::string& event) {
    auto records = broker_->auditRecords({{"event", event}});
    EXPECT_FALSE(records.empty()) << "no " << event << " record";
    return records.empty() ? nlohmann::json() : records.back();
  }

  // The call was refused as denied, and the last `event` record says deny by `rule`.
  void expectDenied(const CallOutcome& outcome, const std::string& event, const std::string& rule) {
    ASSERT_FALSE(outcome.ok()) << event << " was not refused";
    EXPECT_NE(outcome.message().find("DENIED: denied by rule " + rule), std::string::npos)
        << outcome.message();
    auto record = last(event);
    EXPECT_EQ(record["decision"], "deny") << record.dump();
    EXPECT_EQ(record["rule"], rule) << record.dump();
    EXPECT_EQ(record["result"], "refused") << record.dump();
  }

  // Makes `path`'s parent directories (beneath the test's directory), then asks the broker for a
  // symlink at `path` to `target`, which must be allowed.
  void brokeredSymlink(const std::string& target, const std::string& path) {
    std::string made;
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      made = path.substr(0, slash);
      if (!pathExists(file(made))) {
        ASSERT_EQ(mkdir(file(made).c_str(), 0755), 0) << made;
      }
    }
    auto outcome = call("symlink", target + "\n" + file(path));
    ASSERT_TRUE(outcome.ok()) << target << " at " << path << ": " << outcome.describe();
  }

  // The rename was refused because a link it moves would leave `rule`'s root, and nothing moved.
  void expectMoveRefused(const std::string& from, const std::string& to, const std::string& rule) {
    expectDenied(call("rename", file(from) + "\n" + file(to)), "fs.rename", rule);
    auto reason = last("fs.rename")["reason"].get<std::string>();
    EXPECT_NE(reason.find("a symlink the rename moves would point out of the grant"),
              std::string::npos)
        << reason;
    EXPECT_NE(reason.find("climbs above"), std::string::npos) << reason;
    EXPECT_TRUE(pathExists(file(from))) << from;
    EXPECT_FALSE(pathExists(file(to))) << to;
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(FsOpsTest, StatReportsTheFileAndIsAuditedWithItsRule) {
  ASSERT_EQ(chmod(file("work/hello.txt").c_str(), 0640), 0);
  auto outcome = call("stat", file("work/hello.txt"));
  ASSERT_TRUE(outcome.ok()) << outcome.describe() << "\n" << broker_->log();
  EXPECT_EQ(outcome.payload(), "regular 6 0640");
  auto record = last("fs.stat");
  EXPECT_EQ(record["decision"], "allow");
  EXPECT_EQ(record["rule"], "work-stat");
  EXPECT_EQ(record["args"]["path"], file("work/hello.txt"));
  EXPECT_EQ(record["result"], "stat passed");

  auto missing = call("stat", file("work/nothing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("FAILED: fstatat: ENOENT"), std::string::npos)
      << missing.message();
  expectDenied(call("stat", file("outside/secret.txt")), "fs.stat", "default-deny");
  expectDenied(call("stat", file("work/../outside/secret.txt")), "fs.stat", "default-deny");
}

TEST_F(FsOpsTest, ListAnswersSortedEntriesWithTheirTypes) {
  broker_->dir().write("work/sub/b.txt", "b");
  broker_->dir().write("work/sub/a.txt", "a");
  ASSERT_EQ(mkdir(file("work/sub/c").c_str(), 0755), 0);
  ASSERT_EQ(symlink("a.txt", file("work/sub/d").c_str()), 0);
  auto outcome = call("list", file("work/sub"));
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_EQ(outcome.payload(), "a.txt regular\nb.txt regular\nc directory\nd symlink\n");
  auto record = last("fs.list");
  EXPECT_EQ(record["rule"], "work-list");
  EXPECT_EQ(record["result"], "4 entries passed");
  expectDenied(call("list", file("outside")), "fs.list", "default-deny");
}

TEST_F(FsOpsTest, MkdirCreatesOneDirectoryBeneathTheGrantOnly) {
  auto outcome = call("mkdir", file("work/made"));
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  struct stat st;
  ASSERT_EQ(stat(file("work/made").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0700, 0700u);
  EXPECT_EQ(st.st_mode & 0027, 0u) << "0750 (less airlockd's umask): no one else may write";
  auto record = last("fs.mkdir");
  EXPECT_EQ(record["rule"], "work-mkdir");
  EXPECT_EQ(record["result"], "created");

  auto again = call("mkdir", file("work/made"));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.message().find("FAILED: mkdirat: EEXIST"), std::string::npos);
  expectDenied(call("mkdir", file("other/made")), "fs.mkdir", "default-deny");
  EXPECT_FALSE(pathExists(file("other/made")));
}

TEST_F(FsOpsTest, UnlinkRemovesFilesAndEmptyDirectoriesAndADenyRuleKeepsItsFiles) {
  ASSERT_TRUE(call("unlink", file("work/hello.txt")).ok());
  EXPECT_FALSE(pathExists(file("work/hello.txt")));
  EXPECT_EQ(last("fs.unlink")["rule"], "work-unlink");
  EXPECT_EQ(last("fs.unlink")["result"], "removed");

  broker_->dir().write("work/sub/f.txt", "f");
  auto notEmpty = call("unlink", file("work/sub"));
  ASSERT_FALSE(notEmpty.ok());
  EXPECT_NE(notEmpty.message().find("FAILED: unlinkat(AT_REMOVEDIR): ENOTEMPTY"),
            std::string::npos)
      << notEmpty.message();
  ASSERT_TRUE(call("unlink", file("work/sub/f.txt")).ok());
  ASSERT_TRUE(call("unlink", file("work/sub")).ok()) << "an empty directory";
  EXPECT_FALSE(pathExists(file("work/sub")));

  // keep/** also matches keep itself, and the deny is more specific than work/**.
  expectDenied(call("unlink", file("work/keep/precious.txt")), "fs.unlink", "keep-unlink");
  expectDenied(call("unlink", file("work/keep")), "fs.unlink", "keep-unlink");
  EXPECT_EQ(readFile(file("work/keep/precious.txt")), "precious\n");
}

TEST_F(FsOpsTest, ACreateExclusiveMakesANewFileAndFailsWithEexistOnAnExistingOne) {
  auto made = call("open-excl", file("work/new.txt") + "\nfresh");
  ASSERT_TRUE(made.ok()) << made.describe();
  EXPECT_EQ(readFile(file("work/new.txt")), "fresh");
  auto record = last("fs.open");
  EXPECT_EQ(record["args"]["mode"], "write,create,exclusive");
  EXPECT_EQ(record["rule"], "work-open");

  auto existing = call("open-excl", file("work/hello.txt") + "\noverwritten");
  ASSERT_FALSE(existing.ok());
  EXPECT_NE(existing.message().find("FAILED: EEXIST"), std::string::npos) << existing.message();
  EXPECT_EQ(readFile(file("work/hello.txt")), "hello\n");
  EXPECT_EQ(last("fs.open")["decision"], "allow");

  // Even a dangling symlink is "existing": O_EXCL never follows it to create its target.
  ASSERT_EQ(symlink(file("outside/created.txt").c_str(), file("work/dangling").c_str()), 0);
  ASSERT_FALSE(call("open-excl", file("work/dangling") + "\nx").ok());
  EXPECT_FALSE(pathExists(file("outside/created.txt")));

  auto malformed = call("open-excl-no-create", file("work/hello.txt"));
  expectDenied(malformed, "fs.open", "default-deny");
  EXPECT_NE(last("fs.open")["reason"].get<std::string>().find("exclusive needs create"),
            std::string::npos);
}

TEST_F(FsOpsTest, CreateTempPassesAReadWriteFdOfANewOwnerOnlyFileAndReturnsItsPath) {
  auto outcome = call("create-temp", file("work") + "\nupload-\npayload bytes");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  std::string path = outcome.payload();
  ASSERT_EQ(path.rfind(file("work/upload-"), 0), 0u) << path;
  EXPECT_EQ(path.size(), file("work/upload-").size() + 12);
  EXPECT_EQ(readFile(path), "payload bytes");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto record = last("fs.create_temp");
  EXPECT_EQ(record["rule"], "work-open");
  EXPECT_EQ(record["args"]["path"], path);
  EXPECT_EQ(record["args"]["prefix"], "upload-");
  EXPECT_EQ(record["args"]["mode"], "read,write,create");
  EXPECT_EQ(record["result"], "fd passed");

  for (std::string prefix : {std::string("../escape"), std::string(".hidden"), std::string("a/b"),
                             std::string(65, 'p')}) {
    expectDenied(call("create-temp", file("work") + "\n" + prefix + "\nx"), "fs.create_temp",
                 "default-deny");
  }
  expectDenied(call("create-temp", file("other") + "\nx\ny"), "fs.create_temp", "default-deny");
}

TEST_F(FsOpsTest, MknodIsAlwaysRefusedAndAudited) {
  auto outcome = call("mknod", file("work/pipe"));
  expectDenied(outcome, "fs.mknod", "default-deny");
  auto record = last("fs.mknod");
  EXPECT_EQ(record["reason"], "the broker never creates device nodes, FIFOs or sockets");
  EXPECT_EQ(record["args"]["kind"], "fifo");
  EXPECT_EQ(record["args"]["path"], file("work/pipe"));
  EXPECT_FALSE(pathExists(file("work/pipe")));
}

TEST_F(FsOpsTest, AnAbsoluteSymlinkPlantedInTheGrantIsNeverGoneThrough) {
  ASSERT_EQ(symlink(file("outside").c_str(), file("work/link").c_str()), 0);
  std::string through = file("work/link/secret.txt");
  expectDenied(call("stat", through), "fs.stat", "work-stat");
  EXPECT_NE(last("fs.stat")["reason"].get<std::string>().find("ELOOP"), std::string::npos);
  expectDenied(call("list", file("work/link")), "fs.list", "work-list");
  expectDenied(call("unlink", through), "fs.unlink", "work-unlink");
  expectDenied(call("rename", through + "\n" + file("work/stolen.txt")), "fs.rename",
               "work-rename");
  expectDenied(call("mkdir", file("work/link/planted")), "fs.mkdir", "work-mkdir");
  expectDenied(call("symlink", "x\n" + file("work/link/l")), "fs.symlink", "work-symlink");
  expectDenied(call("create-temp", file("work/link") + "\nplanted-\nx"), "fs.create_temp",
               "work-open");
  expectDenied(call("open-excl", file("work/link/planted.txt") + "\nx"), "fs.open", "work-open");
  EXPECT_EQ(readFile(file("outside/secret.txt")), "top secret\n");
  EXPECT_FALSE(pathExists(file("work/stolen.txt")));
  EXPECT_FALSE(pathExists(file("outside/planted")));
  EXPECT_FALSE(pathExists(file("outside/planted.txt")));

  // The link itself: stat reports it as a link, unlink removes it and not its target.
  auto linkStat = call("stat", file("work/link"));
  ASSERT_TRUE(linkStat.ok()) << linkStat.describe();
  EXPECT_EQ(linkStat.payload().rfind("symlink ", 0), 0u) << linkStat.payload();
  ASSERT_TRUE(call("unlink", file("work/link")).ok());
  EXPECT_FALSE(pathExists(file("work/link")));
  EXPECT_TRUE(pathExists(file("outside/secret.txt")));
}

TEST_F(FsOpsTest, ASymlinkIsMadeOnlyWithARelativeTargetThatStaysBeneathTheRoot) {
  auto made = call("symlink", "../hello.txt\n" + file("work/sub/link"));
  ASSERT_TRUE(made.ok()) << made.describe();
  char target[64] = {};
  ASSERT_GT(readlink(file("work/sub/link").c_str(), target, sizeof(target) - 1), 0);
  EXPECT_EQ(std::string(target), "../hello.txt");
  EXPECT_EQ(last("fs.symlink")["rule"], "work-symlink");
  EXPECT_EQ(last("fs.symlink")["args"]["target"], "../hello.txt");

  struct Attempt {
    std::string target, why;
  };
  std::vector<Attempt> attempts = {
      {"../../outside/secret.txt", "climbs above"},
      {file("outside/secret.txt"), "absolute"},
      {"hello.txt/../../../outside", "'..' after a name"},
      {"", "empty"},
  };
  for (auto& attempt : attempts) {
    auto outcome = call("symlink", attempt.target + "\n" + file("work/sub/bad"));
    expectDenied(outcome, "fs.symlink", "work-symlink");
    EXPECT_NE(last("fs.symlink")["reason"].get<std::string>().find(attempt.why),
              std::string::npos)
        << last("fs.symlink").dump();
    EXPECT_FALSE(pathExists(file("work/sub/bad"))) << attempt.target;
  }
  expectDenied(call("symlink", "x\n" + file("other/link")), "fs.symlink", "default-deny");
}

TEST_F(FsOpsTest, RenameMovesWithinOneRootAndNeverAcrossRootsOrOntoADirectory) {
  auto moved = call("rename", file("work/hello.txt") + "\n" + file("work/sub/moved.txt"));
  ASSERT_TRUE(moved.ok()) << moved.describe();
  EXPECT_FALSE(pathExists(file("work/hello.txt")));
  EXPECT_EQ(readFile(file("work/sub/moved.txt")), "hello\n");
  auto record = last("fs.rename");
  EXPECT_EQ(record["rule"], "work-rename");
  EXPECT_EQ(record["args"]["from"], file("work/hello.txt"));
  EXPECT_EQ(record["args"]["to"], file("work/sub/moved.txt"));
  EXPECT_EQ(record["result"], "renamed");

  // Both paths allowed, by rules with different roots.
  expectDenied(call("rename", file("work/sub/moved.txt") + "\n" + file("other/moved.txt")),
               "fs.rename", "other-rename");
  EXPECT_NE(last("fs.rename")["reason"].get<std::string>().find("one root"), std::string::npos);
  // Out of every grant.
  expectDenied(call("rename", file("work/sub/moved.txt") + "\n" + file("outside/moved.txt")),
               "fs.rename", "default-deny");
  EXPECT_TRUE(pathExists(file("work/sub/moved.txt")));
  EXPECT_FALSE(pathExists(file("other/moved.txt")));
  EXPECT_FALSE(pathExists(file("outside/moved.txt")));

  // Onto a directory: a file is refused by the kernel, a directory by RENAME_NOREPLACE.
  ASSERT_EQ(mkdir(file("work/empty").c_str(), 0755), 0);
  auto ontoDir = call("rename", file("work/sub/moved.txt") + "\n" + file("work/empty"));
  ASSERT_FALSE(ontoDir.ok());
  EXPECT_NE(ontoDir.message().find("FAILED: renameat2: EISDIR"), std::string::npos)
      << ontoDir.message();
  ASSERT_EQ(mkdir(file("work/dir").c_str(), 0755), 0);
  auto dirOntoDir = call("rename", file("work/dir") + "\n" + file("work/empty"));
  ASSERT_FALSE(dirOntoDir.ok());
  EXPECT_NE(dirOntoDir.message().find("EEXIST"), std::string::npos) << dirOntoDir.message();
  EXPECT_TRUE(pathExists(file("work/dir")));
  EXPECT_TRUE(pathExists(file("work/empty")));
}

// A link the broker made at work/a/b/link to "../../outside/secret.txt" reaches work/outside,
// inside the grant. Were it one directory closer to the root, the same text would reach the
// test's own outside/secret.txt: each way of moving it there is refused.
TEST_F(FsOpsTest, RenamingASymlinkCloserToTheRootIsRefusedWhenItsTargetWouldLeaveTheGrant) {
  brokeredSymlink("../../outside/secret.txt", "work/a/b/link");
  expectMoveRefused("work/a/b/link", "work/a/link", "work-rename");
  EXPECT_NE(last("fs.rename")["reason"].get<std::string>().find(
                "at " + file("work/a/link") + ", the symlink target \"../../outside/secret.txt\""),
            std::string::npos)
      << last("fs.rename").dump();
  expectMoveRefused("work/a/b/link", "work/link", "work-rename");
  EXPECT_NE(readFile(file("work/a/link")), "top secret\n");

  // Where it stays beneath the root, it moves: sideways, or deeper.
  ASSERT_EQ(mkdir(file("work/a/c").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(file("work/a/c/d").c_str(), 0755), 0);
  auto sideways = call("rename", file("work/a/b/link") + "\n" + file("work/a/c/link"));
  ASSERT_TRUE(sideways.ok()) << sideways.describe();
  EXPECT_EQ(last("fs.rename")["result"], "renamed");
  auto deeper = call("rename", file("work/a/c/link") + "\n" + file("work/a/c/d/link"));
  ASSERT_TRUE(deeper.ok()) << deeper.describe();
  EXPECT_TRUE(pathExists(file("work/a/c/d/link")));
}

TEST_F(FsOpsTest, RenamingTheParentOfASymlinkCloserToTheRootIsRefusedWhenItWouldLeaveTheGrant) {
  brokeredSymlink("../../outside/secret.txt", "work/a/b/link");
  expectMoveRefused("work/a/b", "work/b", "work-rename");
  EXPECT_NE(last("fs.rename")["reason"].get<std::string>().find("at " + file("work/b/link")),
            std::string::npos)
      << last("fs.rename").dump();
  EXPECT_TRUE(pathExists(file("work/a/b/link")));
  EXPECT_NE(readFile(file("work/b/link")), "top secret\n");
}

TEST_F(FsOpsTest, RenamingAnyDirectoryAboveASymlinkCloserToTheRootIsRefusedWhenItWouldLeave) {
  // Grandparent: work/a/b/c/link to "../../../outside/secret.txt" is work/outside/secret.txt.
  brokeredSymlink("../../../outside/secret.txt", "work/a/b/c/link");
  expectMoveRefused("work/a/b", "work/b", "work-rename");
  EXPECT_NE(readFile(file("work/b/c/link")), "top secret\n");
  // Several levels down, beside files and other directories, the walk still finds it.
  broker_->dir().write("work/a/b/file.txt", "f");
  brokeredSymlink("../../../../../../outside/secret.txt", "work/d/e/f/g/h/i/link");
  brokeredSymlink("../x", "work/d/e/f/safe");
  expectMoveRefused("work/d/e", "work/e", "work-rename");
  EXPECT_NE(last("fs.rename")["reason"].get<std::string>().find(file("work/e/f/g/h/i/link")),
            std::string::npos)
      << last("fs.rename").dump();
}

TEST_F(FsOpsTest, ALinkMadeUnderOneRootIsCheckedAgainstTheRootOfTheRuleThatMovesIt) {
  // work/inner/a/b/link is made by work-symlink (root work) and renamed by inner-rename (root
  // work/inner): two levels up from work/inner/b would be the test's directory itself.
  brokeredSymlink("../../../outside/secret.txt", "work/inner/a/b/link");
  expectMoveRefused("work/inner/a/b", "work/inner/b", "inner-rename");
  expectMoveRefused("work/inner/a/b/link", "work/inner/a/link", "inner-rename");
  EXPECT_NE(readFile(file("work/inner/b/link")), "top secret\n");
  EXPECT_NE(readFile(file("work/inner/a/link")), "top secret\n");
  // Made directly under the narrower root, a link climbing above it is moved nowhere shallower.
  brokeredSymlink("../hello.txt", "work/inner/c/link");
  expectMoveRefused("work/inner/c/link", "work/inner/link", "inner-rename");
}

TEST_F(FsOpsTest, ADirectoryHoldingOnlySafeLinksAndFilesStillMovesAnywhereInTheGrant) {
  brokeredSymlink("../x.txt", "work/a/b/link");  // work/a/x.txt
  brokeredSymlink("sibling.txt", "work/a/b/near");
  broker_->dir().write("work/a/b/x.txt", "x");
  auto closer = call("rename", file("work/a/b") + "\n" + file("work/b"));
  ASSERT_TRUE(closer.ok()) << closer.describe();
  auto record = last("fs.rename");
  EXPECT_EQ(record["decision"], "allow");
  EXPECT_EQ(record["rule"], "work-rename");
  EXPECT_EQ(record["result"], "renamed");
  char target[64] = {};
  ASSERT_GT(readlink(file("work/b/link").c_str(), target, sizeof(target) - 1), 0);
  EXPECT_EQ(std::string(target), "../x.txt") << "now work/x.txt: still in the grant";
  EXPECT_EQ(readFile(file("work/b/x.txt")), "x");

  // A directory whose link would escape if moved closer still moves sideways and deeper.
  brokeredSymlink("../../outside/secret.txt", "work/p/q/link");
  ASSERT_TRUE(call("rename", file("work/p/q") + "\n" + file("work/a/q")).ok());
  ASSERT_TRUE(call("rename", file("work/a/q") + "\n" + file("work/b/q")).ok());
  EXPECT_TRUE(pathExists(file("work/b/q/link")));
  // A file moves closer to the root as before.
  ASSERT_TRUE(call("rename", file("work/b/x.txt") + "\n" + file("work/x.txt")).ok());
  EXPECT_EQ(readFile(file("work/x.txt")), "x");
}

TEST_F(FsOpsTest, MovingADirectoryCloserToTheRootPastTheWalksBoundIsRefused) {
  ASSERT_EQ(mkdir(file("work/a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(file("work/a/big").c_str(), 0755), 0);
  constexpr int ENTRIES = 10001;  // one past MAX_MOVED_ENTRIES
  for (int i = 0; i < ENTRIES; ++i) {
    int fd = open(file("work/a/big/" + std::to_string(i)).c_str(),
                  O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    close(fd);
  }
  expectDenied(call("rename", file("work/a/big") + "\n" + file("work/big")), "fs.rename",
               "work-rename");
  EXPECT_NE(last("fs.rename")["reason"].get<std::string>().find("more than 10000 entries"),
            std::string::npos)
      << last("fs.rename").dump();
  EXPECT_FALSE(pathExists(file("work/big")));
  // Sideways needs no walk; one entry fewer is walked and moved.
  ASSERT_TRUE(call("rename", file("work/a/big") + "\n" + file("work/a/sub-big")).ok());
  ASSERT_EQ(unlink(file("work/a/sub-big/0").c_str()), 0);
  auto atTheBound = call("rename", file("work/a/sub-big") + "\n" + file("work/big"));
  ASSERT_TRUE(atTheBound.ok()) << atTheBound.describe();
}

TEST_F(FsOpsTest, ListingADirectoryPastTheBoundFailsRatherThanAnsweringPartOfIt) {
  ASSERT_EQ(mkdir(file("work/huge").c_str(), 0755), 0);
  constexpr int ENTRIES = 10001;  // one past MAX_LIST_ENTRIES
  for (int i = 0; i < ENTRIES; ++i) {
    int fd = open(file("work/huge/" + std::to_string(i)).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC,
                  0644);
    ASSERT_GE(fd, 0);
    close(fd);
  }
  auto outcome = call("list", file("work/huge"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.message().find("FAILED: the directory has more than 10000 entries"),
            std::string::npos)
      << outcome.message().substr(0, 300);
  auto record = last("fs.list");
  EXPECT_EQ(record["decision"], "allow");
  EXPECT_EQ(record["rule"], "work-list");

  ASSERT_EQ(unlink(file("work/huge/0").c_str()), 0);
  auto atTheBound = call("list", file("work/huge"));
  ASSERT_TRUE(atTheBound.ok()) << atTheBound.describe().substr(0, 300);
  EXPECT_EQ(last("fs.list")["result"], "10000 entries passed");
}

TEST(FsCapabilityTest, AnyFsAllowRuleHandsOverTheFsCapability) {
  // Only fs.stat: no fs.open rule at all.
  BrokerProcess broker(std::map<std::string, std::string>{{"fsprobe.toml", fsPolicy(R"(
[[rule]]
id = "tmp-stat"
allow = "fs.stat"
path = "${tmp}/**"
)")}});
  broker.dir().write("seen.txt", "abc");
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  auto client = broker.connect();
  auto outcome = client.unit("fsprobe").call("stat", broker.dir().file("seen.txt"));
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_EQ(outcome.payload().rfind("regular 3 ", 0), 0u) << outcome.payload();
  auto opened = client.unit("fsprobe").call("open-excl", broker.dir().file("new.txt") + "\nx");
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.message().find("DENIED: denied by rule default-deny"), std::string::npos)
      << opened.message();
}

// A directory the broker opens for the worker (read-only directory opens are allowed, for
// listing) is a descriptor of the host's tree: relative opens through it would resolve outside
// the sandbox's mount namespace, where no rule's root applies. Landlock refuses every one of
// them, beneath the directory as well as above it, so the descriptor lists and nothing more.
TEST_F(FsOpsTest, ADirectoryFdFromTheBrokerCannotBeOpenedThroughNorClimbedOutOf) {
  broker_->dir().write("work/sub/inner.txt", "inner\n");
  for (auto name : {"../../outside/secret.txt", "../hello.txt", "inner.txt", "."}) {
    auto outcome = call("walk-from", file("work/sub") + "\n" + name);
    ASSERT_TRUE(outcome.ok()) << name << ": " << outcome.describe();
    EXPECT_EQ(outcome.payload(), "openat: EACCES") << name;
  }
  auto opened = last("fs.open");
  EXPECT_EQ(opened["decision"], "allow") << opened.dump();
  EXPECT_EQ(opened["args"]["path"], file("work/sub")) << opened.dump();
}

// The same worker without Landlock (a best-effort unit on a kernel without it, rehearsed with
// --landlock-abi-max 0): nothing would stop openat(2) through a directory of the host's tree, so
// the broker hands it no directory at all (under Landlock the same walk is the EACCES above).
TEST(UnconfinedWorkerTest, AWorkerRunningWithoutLandlockIsHandedNoDirectory) {
  BrokerOptions options;
  options.extraArgs = {"--landlock-abi-max", "0"};
  BrokerProcess broker(std::map<std::string, std::string>{{"fsprobe.toml", fsPolicy(R"(
[sandbox]
landlock = "best-effort"
justification = "rehearses a kernel without Landlock"

[[rule]]
id = "work-open"
allow = "fs.open"
path = "${tmp}/work/**"
mode = ["read"]
)")}}, {}, options);
  ASSERT_EQ(mkdir(broker.dir().file("work").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(broker.dir().file("work/sub").c_str(), 0755), 0);
  ASSERT_TRUE(broker.restart()) << broker.log();
  auto spawned = broker.waitForRecord({{"event", "worker.spawn"}});
  EXPECT_EQ(spawned["args"]["landlock_abi"], 0) << spawned.dump();

  auto client = broker.connect();
  auto walked = client.unit("fsprobe").call("walk-from", broker.dir().file("work/sub") + "\n..");
  ASSERT_FALSE(walked.ok()) << walked.describe();
  EXPECT_NE(walked.message().find("DENIED: denied by rule work-open"), std::string::npos)
      << walked.message();
  auto refused = broker.auditRecords({{"event", "fs.open"}, {"decision", "deny"}});
  ASSERT_EQ(refused.size(), 1u) << broker.log();
  EXPECT_EQ(refused[0]["rule"], "work-open");
  EXPECT_NE(refused[0]["reason"].get<std::string>().find("running without Landlock"),
            std::string::npos) << refused[0].dump();
}

}  // namespace
}  // namespace airlock::testing

// Native-first reads (sandbox/native_first.h): a brokered program's reads of the sandbox's own
// view run without a broker round trip, and a program that calls the library's native
// instruction itself gets nothing the broker would not have left to the kernel.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/integration/support/airlock_run_fixture.h"

namespace airlock::testing {
namespace {

class NativeFirstTest : public AirlockRunTest {
 protected:
  // How many of the run's syscalls reached the broker only to be left to the kernel.
  uint64_t leftToKernel() const {
    auto exits = records("run.exit");
    EXPECT_EQ(exits.size(), 1u) << readFile(auditLog());
    return exits.empty() ? 0 : exits.back()["args"].value("left_to_kernel", uint64_t{0});
  }
};

TEST_F(NativeFirstTest, Python3StartUpReadsItsOwnViewWithoutAFileRoundTripPerModule) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  const std::string script =
      "import json, email, http.client, xml.dom.minidom, decimal, unittest, sys\n"
      "print(len(sys.modules) > 100)\n";
  // Native-first is on wherever Landlock is required (the default); best-effort Landlock turns
  // it off, which gives the same program's count without it, in the same test.
  writePolicy("[sandbox]\nsyscalls = [\"system-info\", \"nss-without-daemons\"]\n"
              "landlock = \"best-effort\"\njustification = \"the comparison run\"\n");
  auto without = run(dir_.path(), {"/usr/bin/python3", "-c", script});
  ASSERT_EQ(without.exitCode, 0) << without.output;
  uint64_t unassisted = leftToKernel();
  ASSERT_EQ(unlink(auditLog().c_str()), 0);

  writePolicy("[sandbox]\nsyscalls = [\"system-info\", \"nss-without-daemons\"]\n");
  auto with = run(dir_.path(), {"/usr/bin/python3", "-c", script});
  EXPECT_EQ(with.exitCode, 0) << with.output;
  EXPECT_EQ(with.output, without.output);
  EXPECT_EQ(with.output, "True\n");
  uint64_t assisted = leftToKernel();
  // Each of the 100+ modules cost the broker several lookups before; now only what the C
  // library and the loader open themselves (C extensions, failed lookups) still reach it.
  EXPECT_GT(unassisted, 300u);
  EXPECT_LT(assisted, unassisted / 3) << "unassisted " << unassisted;
  expectLogVerifies();
}

TEST_F(NativeFirstTest, TheNativeInstructionOnADescriptorTheBrokerPassedIsStillDecided) {
  ASSERT_EQ(mkdir(dir_.file("data").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir_.file("private").c_str(), 0755), 0);
  dir_.write("data/granted.txt", "granted\n");
  dir_.write("private/other.txt", "SECRET\n");
  writePolicy("[[rule]]\nid = \"read\"\nallow = \"fs.open\"\npath = \"" + dir_.path() +
              "/data/**\"\nmode = [\"read\"]\n");
  std::string probe = binDir() + "/test-unmodified_io";

  // Within the grant, through the broker: the file is read.
  auto granted = run(dir_.path(), {probe, "gadget-at", dir_.file("data"), "granted.txt"});
  EXPECT_EQ(granted.exitCode, 0) << granted.output;
  EXPECT_EQ(granted.output, "gadget-at read: granted\n\n");
  // Out of it: refused, and a deny record proves the broker (not the kernel) decided it.
  auto escaped = run(dir_.path(), {probe, "gadget-at", dir_.file("data"), "../private/other.txt"});
  EXPECT_EQ(escaped.exitCode, 0) << escaped.output;
  EXPECT_EQ(escaped.output, "gadget-at: EACCES\n");
  auto denied = recordFor("fs.open", dir_.file("private/other.txt"));
  ASSERT_FALSE(denied.is_null()) << readFile(auditLog());
  EXPECT_EQ(denied["decision"], "deny");
  EXPECT_EQ(denied["args"]["syscall"], "openat");
  expectLogVerifies();
}

TEST_F(NativeFirstTest, ABrokeredRootIsNeverReadFromItsEmptyStandIn) {
  ASSERT_EQ(mkdir(dir_.file("data").c_str(), 0755), 0);
  dir_.write("data/a.txt", "a\n");
  dir_.write("data/b.txt", "b\n");
  writePolicy("[sandbox]\nsyscalls = [\"fs-metadata\", \"nss-without-daemons\"]\n\n"
              "[[rule]]\nid = \"read\"\nallow = \"fs.open\"\npath = \"" + dir_.path() +
              "/data/**\"\nmode = [\"read\"]\n\n[[rule]]\nid = \"stat\"\nallow = \"fs.stat\"\n"
              "path = \"" + dir_.path() + "/data/**\"\n");
  // ls opens and lists the root itself (opendir, stat): the broker's directory, not the
  // sandbox's empty stand-in at the same path.
  auto listed = run(dir_.path(), {"/bin/ls", dir_.file("data")});
  EXPECT_EQ(listed.exitCode, 0) << listed.output;
  EXPECT_EQ(listed.output, "a.txt\nb.txt\n");
}

TEST_F(NativeFirstTest, AProgramCanChangeIntoADirectoryBeneathARootAndWorkThere) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  ASSERT_EQ(mkdir(dir_.file("data").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir_.file("data/sub").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir_.file("private").c_str(), 0755), 0);
  dir_.write("data/sub/x.txt", "inside sub\n");
  writePolicy("[sandbox]\nsyscalls = [\"working-directory\", \"system-info\", "
              "\"nss-without-daemons\"]\n\n[[rule]]\nid = \"read\"\nallow = \"fs.open\"\n"
              "path = \"" + dir_.path() + "/data/**\"\nmode = [\"read\"]\n\n"
              "[[rule]]\nid = \"stat\"\nallow = \"fs.stat\"\npath = \"" + dir_.path() +
              "/data/**\"\n");
  std::string script =
      "import os\n"
      "os.chdir('data/sub')\n"
      "print(os.getcwd() == '" + dir_.file("data/sub") + "', open('x.txt').read().strip())\n"
      "try:\n  os.chdir('../../private'); print('entered private')\n"
      "except PermissionError: print('private refused')\n";
  auto inside = run(dir_.path(), {"/usr/bin/python3", "-c", script});
  EXPECT_EQ(inside.exitCode, 0) << inside.output;
  EXPECT_EQ(inside.output, "True inside sub\nprivate refused\n");
  auto opened = recordFor("fs.open", dir_.file("data/sub/x.txt"));
  ASSERT_FALSE(opened.is_null()) << readFile(auditLog());
  EXPECT_EQ(opened["decision"], "allow");
  EXPECT_EQ(recordFor("fs.open", dir_.file("private"))["decision"], "deny");
}

}  // namespace
}  // namespace airlock::testing

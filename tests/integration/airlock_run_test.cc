// `airlock run`: unmodified Debian programs (xmllint, python3, dash, coreutils) and a raw-syscall
// probe under a unit's policy, their own file calls brokered through the seccomp listener. Each
// test compares with the program run outside the sandbox, reads the audit log the run wrote and
// checks the host side for what must not have happened.

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <sstream>

#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

// `argv` run with `dir` as its working directory (runProgram has no cwd of its own).
RunResult runIn(const std::string& dir, const std::vector<std::string>& argv) {
  std::string script = "cd \"$1\" && shift && exec \"$@\"";
  std::vector<std::string> shell = {"/bin/sh", "-c", script, "sh", dir};
  shell.insert(shell.end(), argv.begin(), argv.end());
  return runProgram(shell);
}

class AirlockRunTest : public ::testing::Test {
 protected:
  std::string policy() const { return dir_.file("policy.toml"); }
  std::string auditLog() const { return dir_.file("audit.jsonl"); }

  void writePolicy(const std::string& body) const {
    dir_.write("policy.toml", "[unit]\nname = \"run\"\n\n" + body);
  }

  // `airlock run` of `program` from `cwd`, under policy.toml, auditing to audit.jsonl.
  RunResult run(const std::string& cwd, std::vector<std::string> program) const {
    std::vector<std::string> argv = {binDir() + "/airlock", "run", "--policy", policy(),
                                     "--audit", auditLog(), "--"};
    argv.insert(argv.end(), program.begin(), program.end());
    return runIn(cwd, argv);
  }

  std::vector<nlohmann::json> records(const std::string& event) const {
    std::vector<nlohmann::json> out;
    std::istringstream lines(readFile(auditLog()));
    for (std::string line; std::getline(lines, line);) {
      auto record = nlohmann::json::parse(line);
      if (record.value("event", "") == event) out.push_back(record);
    }
    return out;
  }

  // The first record of `event` for `path`, or null.
  nlohmann::json recordFor(const std::string& event, const std::string& path) const {
    for (auto& record : records(event)) {
      if (record["args"].value("path", "") == path) return record;
    }
    return nullptr;
  }

  void expectLogVerifies() const {
    auto verified = runProgram({binDir() + "/airlock", "audit", "verify", auditLog()});
    EXPECT_EQ(verified.exitCode, 0) << verified.output;
  }

  TempDir dir_;
};

TEST_F(AirlockRunTest, XmllintIncludesASiblingAsItDoesOutsideAndAnXxeOfPasswdIsADenyRecord) {
  if (access("/usr/bin/xmllint", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/xmllint";
  std::string docs = dir_.file("docs");
  ASSERT_EQ(mkdir(docs.c_str(), 0755), 0);
  dir_.write("docs/doc.xml",
             "<?xml version=\"1.0\"?>\n<book xmlns:xi=\"http://www.w3.org/2001/XInclude\">\n"
             "  <title>Main</title>\n  <xi:include href=\"chapter.xml\"/>\n</book>\n");
  dir_.write("docs/chapter.xml", "<chapter>sibling text</chapter>\n");
  dir_.write("docs/xxe.xml",
             "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
             "<r>&x;</r>\n");
  writePolicy("[[rule]]\nid = \"read-docs\"\nallow = \"fs.open\"\npath = \"" + docs +
              "/**\"\nmode = [\"read\"]\n\n[[rule]]\nid = \"stat-docs\"\nallow = \"fs.stat\"\n"
              "path = \"" + docs + "/**\"\n");

  auto outside = runIn(docs, {"/usr/bin/xmllint", "--xinclude", "doc.xml"});
  ASSERT_EQ(outside.exitCode, 0) << outside.output;
  ASSERT_NE(outside.output.find("sibling text"), std::string::npos) << outside.output;
  auto inside = run(docs, {"/usr/bin/xmllint", "--xinclude", "doc.xml"});
  EXPECT_EQ(inside.exitCode, 0) << inside.output;
  EXPECT_EQ(inside.output, outside.output);
  auto opened = recordFor("fs.open", docs + "/chapter.xml");
  ASSERT_FALSE(opened.is_null()) << readFile(auditLog());
  EXPECT_EQ(opened["decision"], "allow");
  EXPECT_EQ(opened["rule"], "read-docs");
  EXPECT_EQ(opened["args"]["via"], "syscall");
  EXPECT_EQ(opened["result"], "fd passed");

  auto outsideXxe = runIn(docs, {"/usr/bin/xmllint", "--noent", "xxe.xml"});
  ASSERT_NE(outsideXxe.output.find("root:"), std::string::npos) << "the XXE works outside";
  auto insideXxe = run(docs, {"/usr/bin/xmllint", "--noent", "xxe.xml"});
  EXPECT_EQ(insideXxe.output.find("root:"), std::string::npos) << insideXxe.output;
  bool denied = false;
  for (const char* event : {"fs.open", "fs.stat"}) {
    auto record = recordFor(event, "/etc/passwd");
    if (record.is_null()) continue;
    EXPECT_EQ(record["decision"], "deny") << record;
    EXPECT_EQ(record["args"]["via"], "syscall") << record;
    denied = true;
  }
  EXPECT_TRUE(denied) << readFile(auditLog());
  expectLogVerifies();
}

TEST_F(AirlockRunTest, Python3ImportsTheStandardLibraryReadsAndWritesDataAsItDoesOutside) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  for (const char* sub : {"data", "out"}) {
    ASSERT_EQ(mkdir(dir_.file(sub).c_str(), 0755), 0);
  }
  dir_.write("data/in.json", "{\"values\": [1, 2, 3, 36]}\n");
  dir_.write("secret.txt", "SECRET\n");
  writePolicy("[sandbox]\nsyscalls = [\"system-info\", \"nss-without-daemons\"]\n\n"
              "[[rule]]\nid = \"read-data\"\nallow = \"fs.open\"\npath = \"" + dir_.path() +
              "/data/**\"\nmode = [\"read\"]\n\n"
              "[[rule]]\nid = \"write-out\"\nallow = \"fs.open\"\npath = \"" + dir_.path() +
              "/out/**\"\nmode = [\"write\", \"create\", \"truncate\"]\n\n"
              "[[rule]]\nid = \"stat\"\nallow = \"fs.stat\"\npath = \"" + dir_.path() + "/**\"\n");
  std::string script =
      "import json, email, http.client\n"
      "d = json.load(open('data/in.json'))\n"
      "open('out/sum.json', 'w').write(json.dumps({'sum': sum(d['values'])}))\n"
      "print(sum(d['values']))\n"
      "try:\n  open('secret.txt').read(); print('read secret')\n"
      "except PermissionError: print('secret refused')\n"
      "try:\n  open('data/new.txt', 'w'); print('wrote data')\n"
      "except PermissionError: print('data write refused')\n";
  auto inside = run(dir_.path(), {"/usr/bin/python3", "-c", script});
  EXPECT_EQ(inside.exitCode, 0) << inside.output;
  EXPECT_EQ(inside.output, "42\nsecret refused\ndata write refused\n");
  EXPECT_EQ(readFile(dir_.file("out/sum.json")), "{\"sum\": 42}");
  EXPECT_FALSE(pathExists(dir_.file("data/new.txt")));  // host-side evidence: nothing created
  EXPECT_EQ(recordFor("fs.open", dir_.file("secret.txt"))["decision"], "deny");
  auto write = recordFor("fs.open", dir_.file("out/sum.json"));
  EXPECT_EQ(write["decision"], "allow") << write;
  // The write was admitted on record before the file was made.
  ASSERT_FALSE(recordFor("fs.open.admitted", dir_.file("out/sum.json")).is_null());
  expectLogVerifies();
}

TEST_F(AirlockRunTest, CoreutilsMakeAndRemoveOnlyWhatTheRulesAllow) {
  ASSERT_EQ(mkdir(dir_.file("work").c_str(), 0755), 0);
  dir_.write("work/keep.txt", "keep\n");
  dir_.write("work/drop.txt", "drop\n");
  // coreutils' mkdir asks statfs(2) of the new directory's parent.
  writePolicy("[sandbox]\nsyscalls = [\"fs-metadata\"]\n\n[[rule]]\nid = \"mkdir\"\nallow = \"fs.mkdir\"\npath = \"" + dir_.path() +
              "/work/new\"\n\n[[rule]]\nid = \"unlink\"\nallow = \"fs.unlink\"\npath = \"" +
              dir_.path() + "/work/drop.txt\"\n\n[[rule]]\nid = \"stat\"\nallow = \"fs.stat\"\n"
              "path = \"" + dir_.path() + "/work/**\"\n");
  EXPECT_EQ(run(dir_.path(), {"/bin/mkdir", "work/new"}).exitCode, 0);
  EXPECT_TRUE(pathExists(dir_.file("work/new")));
  auto refusedMkdir = run(dir_.path(), {"/bin/mkdir", "work/other"});
  EXPECT_NE(refusedMkdir.exitCode, 0);
  EXPECT_NE(refusedMkdir.output.find("Permission denied"), std::string::npos)
      << refusedMkdir.output;
  EXPECT_FALSE(pathExists(dir_.file("work/other")));

  EXPECT_EQ(run(dir_.path(), {"/bin/rm", "-f", "work/drop.txt"}).exitCode, 0);
  EXPECT_FALSE(pathExists(dir_.file("work/drop.txt")));
  EXPECT_NE(run(dir_.path(), {"/bin/rm", "-f", "work/keep.txt"}).exitCode, 0);
  EXPECT_EQ(readFile(dir_.file("work/keep.txt")), "keep\n");
  EXPECT_EQ(recordFor("fs.unlink", dir_.file("work/keep.txt"))["decision"], "deny");
  EXPECT_FALSE(recordFor("fs.unlink.admitted", dir_.file("work/drop.txt")).is_null());
  expectLogVerifies();
}

TEST_F(AirlockRunTest, ARawOpenFromAnotherThreadIsBrokeredWithTheFlagsItAskedFor) {
  ASSERT_EQ(mkdir(dir_.file("data").c_str(), 0755), 0);
  dir_.write("data/a.txt", "contents of a\n");
  writePolicy("[[rule]]\nid = \"read\"\nallow = \"fs.open\"\npath = \"" + dir_.path() +
              "/data/**\"\nmode = [\"read\"]\n");
  std::string probe = binDir() + "/test-unmodified_io";
  auto opened = run(dir_.path(), {probe, "thread-open", dir_.file("data/a.txt")});
  EXPECT_EQ(opened.exitCode, 0) << opened.output;
  EXPECT_EQ(opened.output, "cloexec=1\ncontents of a\n");
  auto relative = run(dir_.file("data"), {probe, "thread-open", "a.txt"});
  EXPECT_EQ(relative.output, "cloexec=1\ncontents of a\n") << relative.output;
  auto refused = run(dir_.path(), {probe, "thread-open", dir_.file("policy.toml")});
  EXPECT_EQ(refused.output, "error=EACCES\n") << refused.output;
  EXPECT_EQ(recordFor("fs.open", dir_.file("policy.toml"))["args"]["syscall"], "openat");
}

TEST_F(AirlockRunTest, AnAtCallOnABrokeredDirectoryResolvesBeneathIt) {
  ASSERT_EQ(mkdir(dir_.file("data").c_str(), 0755), 0);
  dir_.write("data/a.txt", "contents of a\n");
  dir_.write("outside.txt", "SECRET\n");
  writePolicy("[[rule]]\nid = \"read\"\nallow = \"fs.open\"\npath = \"" + dir_.path() +
              "/data/**\"\nmode = [\"read\"]\n\n[[rule]]\nid = \"dir\"\nallow = \"fs.open\"\n"
              "path = \"" + dir_.path() + "/data\"\nmode = [\"read\"]\n");
  std::string probe = binDir() + "/test-unmodified_io";
  auto beneath = run(dir_.path(), {probe, "at-dir", dir_.file("data"), "a.txt"});
  EXPECT_EQ(beneath.output, "contents of a\n") << beneath.output;
  auto escape = run(dir_.path(), {probe, "at-dir", dir_.file("data"), "../outside.txt"});
  EXPECT_EQ(escape.output, "openat ../outside.txt: error=EACCES\n") << escape.output;
  EXPECT_EQ(recordFor("fs.open", dir_.file("outside.txt"))["decision"], "deny");
}

// The broker decides on its own copy of the path and opens that copy: a path rewritten by
// another thread while the call waits can never make it check one file and hand out another.
TEST_F(AirlockRunTest, APathRewrittenDuringTheCallNeverOpensWhatTheRulesRefuse) {
  ASSERT_EQ(mkdir(dir_.file("data").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir_.file("private").c_str(), 0755), 0);
  dir_.write("data/granted.txt", "granted\n");
  dir_.write("private/other.txt", "SECRET\n");
  writePolicy("[[rule]]\nid = \"read\"\nallow = \"fs.open\"\npath = \"" + dir_.path() +
              "/data/**\"\nmode = [\"read\"]\n");
  std::string probe = binDir() + "/test-unmodified_io";
  auto raced = run(dir_.path(), {probe, "flip", dir_.file("data/granted.txt"),
                                 dir_.file("private/other.txt"), "2000"});
  EXPECT_EQ(raced.exitCode, 0) << raced.output;
  EXPECT_NE(raced.output.find("leaked=0"), std::string::npos) << raced.output;
  EXPECT_EQ(raced.output.find("opened=0 "), std::string::npos) << "the race never ran: "
                                                                << raced.output;
}

TEST_F(AirlockRunTest, APolicyThatDoesNotLoadRunsNothing) {
  dir_.write("policy.toml", "[unit]\nname = \"run\"\n\n[[rule]]\nid = \"x\"\nallow = \"fs.open\"\n");
  auto result = run(dir_.path(), {"/bin/true"});
  EXPECT_EQ(result.exitCode, 2) << result.output;
  EXPECT_NE(result.output.find("policy.toml:"), std::string::npos) << result.output;
  EXPECT_FALSE(pathExists(auditLog()));
}

}  // namespace
}  // namespace airlock::testing

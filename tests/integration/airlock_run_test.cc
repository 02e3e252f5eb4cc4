// `airlock run`: unmodified Debian programs (xmllint, python3, tar, dash, coreutils) and a raw-syscall
// probe under a unit's policy, their own file calls brokered through the seccomp listener. Each
// test compares with the program run outside the sandbox, reads the audit log the run wrote and
// checks the host side for what must not have happened.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "tests/integration/support/airlock_run_fixture.h"

namespace airlock::testing {
namespace {

// One ustar member, written by hand so that an archive can hold what tar itself would never
// write: `..` names, absolute names, links out of the tree. `type` is the ustar typeflag.
std::string tarMember(const std::string& name, char type, const std::string& link = "",
                      const std::string& content = "") {
  std::string header(512, '\0');
  auto put = [&](size_t at, size_t width, const std::string& text) {
    header.replace(at, std::min(width, text.size()), text.substr(0, width));
  };
  auto octal = [](unsigned long value, int digits) {
    char out[16];
    snprintf(out, sizeof(out), "%0*lo", digits, value);
    return std::string(out);
  };
  put(0, 100, name);
  put(100, 8, octal(type == '5' ? 0755 : 0644, 7));
  put(108, 8, octal(0, 7));
  put(116, 8, octal(0, 7));
  put(124, 12, octal(content.size(), 11));
  put(136, 12, octal(1700000000, 11));
  header[156] = type;
  put(157, 100, link);
  put(257, 8, std::string("ustar\0" "00", 8));
  put(148, 8, "        ");
  unsigned long sum = 0;
  for (unsigned char c : header) sum += c;
  put(148, 8, octal(sum, 6) + std::string("\0 ", 2));
  std::string body = content;
  body.resize((content.size() + 511) / 512 * 512, '\0');
  return header + body;
}

// Every entry beneath `root`, never following a link: path -> type and contents or link target.
std::map<std::string, std::string> treeOf(const std::string& root) {
  std::map<std::string, std::string> tree;
  for (auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    std::string relative = entry.path().lexically_relative(root).string();
    if (entry.is_symlink()) {
      tree[relative] = "link -> " + std::filesystem::read_symlink(entry.path()).string();
    } else if (entry.is_directory()) {
      tree[relative] = "directory";
    } else {
      tree[relative] = "file: " + readFile(entry.path().string());
    }
  }
  return tree;
}


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

// What GNU tar -x needs, as a policy: read the archive, open the output directory, and in it
// create, write, make directories, remove (tar replaces what it finds), symlink and stat. umask
// by name (tar sets its own), nss-without-daemons (it looks up owner names), fs-metadata (statfs
// of the directory it extracts into).
std::string tarPolicy(const std::string& dir) {
  std::string out = dir + "/out";
  auto rule = [](const std::string& id, const std::string& allow, const std::string& path,
                 const std::string& mode = "") {
    return "\n[[rule]]\nid = \"" + id + "\"\nallow = \"" + allow + "\"\npath = \"" + path +
           "\"\n" + (mode.empty() ? "" : "mode = [" + mode + "]\n");
  };
  return "[sandbox]\nsyscalls = [\"umask\", \"nss-without-daemons\", \"fs-metadata\"]\n" +
         rule("archive", "fs.open", dir + "/*.tar", "\"read\"") +
         rule("out-dir", "fs.open", out, "\"read\"") +
         rule("out", "fs.open", out + "/**", "\"read\", \"write\", \"create\", \"truncate\"") +
         rule("stat", "fs.stat", dir + "/**") + rule("mkdir", "fs.mkdir", out + "/**") +
         rule("unlink", "fs.unlink", out + "/**") + rule("symlink", "fs.symlink", out + "/**");
}

TEST_F(AirlockRunTest, TarExtractsABenignArchiveAsItDoesOutside) {
  for (const char* sub : {"src", "src/sub", "src/sub/deeper", "out", "reference"}) {
    ASSERT_EQ(mkdir(dir_.file(sub).c_str(), 0755), 0);
  }
  dir_.write("src/a.txt", "first file\n");
  dir_.write("src/sub/b.bin", std::string("\0\1\2binary\xff", 10));
  dir_.write("src/sub/deeper/c.txt", std::string(100000, 'c'));
  dir_.write("src/sub/run.sh", "#!/bin/sh\n");
  ASSERT_EQ(chmod(dir_.file("src/sub/run.sh").c_str(), 0755), 0);
  ASSERT_EQ(chmod(dir_.file("src/sub/deeper/c.txt").c_str(), 0640), 0);
  ASSERT_EQ(symlink("../a.txt", dir_.file("src/sub/link").c_str()), 0);
  ASSERT_EQ(symlink("deeper/c.txt", dir_.file("src/sub/near").c_str()), 0);
  auto made = runProgram({"/bin/tar", "-cf", dir_.file("benign.tar"), "-C", dir_.file("src"),
                          "a.txt", "sub"});
  ASSERT_EQ(made.exitCode, 0) << made.output;
  writePolicy(tarPolicy(dir_.path()));

  auto outside = runProgram({"/bin/tar", "-xf", dir_.file("benign.tar"), "-C", dir_.file("reference")});
  ASSERT_EQ(outside.exitCode, 0) << outside.output;
  auto inside = run(dir_.path(), {"/bin/tar", "-xf", "benign.tar", "-C", "out"});
  EXPECT_EQ(inside.exitCode, 0) << inside.output;
  EXPECT_EQ(inside.output, outside.output);
  auto expected = treeOf(dir_.file("reference"));
  ASSERT_EQ(expected.size(), 8u);
  EXPECT_EQ(treeOf(dir_.file("out")), expected);
  // Modes as outside: each file created with the mode tar asked (less its umask), each
  // directory's restored with chmod (brokered, decided as an fs.open write).
  for (const char* name : {"sub", "sub/deeper", "a.txt", "sub/run.sh", "sub/deeper/c.txt"}) {
    SCOPED_TRACE(name);
    struct stat extracted, reference;
    ASSERT_EQ(stat((dir_.file("out/") + name).c_str(), &extracted), 0);
    ASSERT_EQ(stat((dir_.file("reference/") + name).c_str(), &reference), 0);
    EXPECT_EQ(extracted.st_mode & 07777, reference.st_mode & 07777);
  }
  auto created = recordFor("fs.open", dir_.file("out/sub/run.sh"));
  ASSERT_FALSE(created.is_null()) << readFile(auditLog());
  EXPECT_TRUE(created["args"].contains("create_mode")) << created.dump();
  auto linked = recordFor("fs.symlink", dir_.file("out/sub/link"));
  ASSERT_FALSE(linked.is_null()) << readFile(auditLog());
  EXPECT_EQ(linked["decision"], "allow");
  EXPECT_EQ(linked["args"]["target"], "../a.txt");
  EXPECT_EQ(linked["args"]["via"], "syscall");
  expectLogVerifies();
}

// Each hostile member aims outside out/: a `..` name, an absolute name, a symlink out of the tree
// with a file written through it, a hard link to /etc/passwd. Plain tar stops some itself; with
// -P (--absolute-names) it tries them all, and the broker alone refuses them, on record.
TEST_F(AirlockRunTest, TarFromAHostileArchiveLeavesNothingOutsideItsOutputDirectory) {
  std::string passwd = readFile("/etc/passwd");
  ASSERT_FALSE(passwd.empty());
  std::string absolute = dir_.file("absolute.txt");
  std::string archive = tarMember("../escape.txt", '0', "", "ESCAPED\n") +
                        tarMember(absolute.substr(0, 99), '0', "", "ABSOLUTE\n") +
                        tarMember("evil", '2', dir_.path()) +
                        tarMember("evil/through.txt", '0', "", "THROUGH\n") +
                        tarMember("up", '2', "..") + tarMember("up/upped.txt", '0', "", "UP\n") +
                        tarMember("passwd-link", '1', "/etc/passwd") +
                        tarMember("passwd-up", '1', "../../../../../../../../etc/passwd") +
                        tarMember("fine.txt", '0', "", "fine\n") + std::string(1024, '\0');
  ASSERT_LT(absolute.size(), 100u);
  dir_.write("hostile.tar", archive);
  writePolicy(tarPolicy(dir_.path()));
  auto listed = runProgram({"/bin/tar", "-tvf", dir_.file("hostile.tar")});
  ASSERT_EQ(listed.exitCode, 0) << "the archive is well formed: " << listed.output;

  for (bool absoluteNames : {false, true}) {
    SCOPED_TRACE(absoluteNames ? "tar -P" : "tar");
    std::filesystem::remove_all(dir_.file("out"));
    ASSERT_EQ(mkdir(dir_.file("out").c_str(), 0755), 0);
    std::vector<std::string> argv = {"/bin/tar", "-xf", "hostile.tar", "-C", "out"};
    if (absoluteNames) argv.push_back("-P");
    auto result = run(dir_.path(), argv);
    EXPECT_NE(result.exitCode, 0) << result.output;
    // Host-side evidence: nothing outside out/ was made or changed.
    for (const char* name : {"escape.txt", "absolute.txt", "through.txt", "upped.txt"}) {
      EXPECT_FALSE(pathExists(dir_.file(name))) << name << "\n" << result.output;
    }
    EXPECT_EQ(readFile("/etc/passwd"), passwd);
    struct stat linkStat, passwdStat;
    ASSERT_EQ(stat("/etc/passwd", &passwdStat), 0);
    for (const char* link : {"out/passwd-link", "out/passwd-up"}) {
      if (lstat(dir_.file(link).c_str(), &linkStat) == 0) {
        EXPECT_NE(linkStat.st_ino, passwdStat.st_ino) << link;
      }
    }
    EXPECT_EQ(readFile(dir_.file("out/fine.txt")), "fine\n") << result.output;
    // What reached the broker was refused on record.
    for (const char* link : {"evil", "up"}) {
      auto refused = recordFor("fs.symlink", dir_.file("out/") + link);
      ASSERT_FALSE(refused.is_null()) << link << "\n" << readFile(auditLog());
      EXPECT_EQ(refused["decision"], "deny") << refused;
    }
    // tar makes a hard link's target relative to out/ even with -P (no leading '/' or '..'),
    // and the broker makes no hard links at all: refused, on record.
    for (const char* link : {"passwd-link", "passwd-up"}) {
      auto hardLink = recordFor("fs.link", dir_.file("out/") + link);
      ASSERT_FALSE(hardLink.is_null()) << link << "\n" << readFile(auditLog());
      EXPECT_EQ(hardLink["decision"], "deny") << hardLink;
    }
    if (absoluteNames) {
      for (const std::string& path : {dir_.file("escape.txt"), absolute}) {
        auto opened = recordFor("fs.open", path);
        ASSERT_FALSE(opened.is_null()) << path << "\n" << readFile(auditLog());
        EXPECT_EQ(opened["decision"], "deny") << opened;
      }
    }
    expectLogVerifies();
  }
}

// The calls that change names and metadata, each once allowed and once refused, from python3's
// own os.* functions (libc, no SDK).
TEST_F(AirlockRunTest, RenameTruncateChmodAndUtimeAreDecidedLinkAndChownRefused) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  ASSERT_EQ(mkdir(dir_.file("work").c_str(), 0755), 0);
  dir_.write("work/a.txt", "0123456789");
  dir_.write("kept.txt", "kept\n");
  std::string work = dir_.file("work");
  writePolicy("[sandbox]\nsyscalls = [\"system-info\", \"nss-without-daemons\"]\n\n"
              "[[rule]]\nid = \"write\"\nallow = \"fs.open\"\npath = \"" + work +
              "/**\"\nmode = [\"read\", \"write\"]\n\n"
              "[[rule]]\nid = \"rename\"\nallow = \"fs.rename\"\npath = \"" + work + "/**\"\n\n"
              "[[rule]]\nid = \"stat\"\nallow = \"fs.stat\"\npath = \"" + dir_.path() + "/**\"\n");
  std::string script =
      "import os\n"
      "def attempt(name, f):\n"
      "  try:\n    f(); print(name, 'ok')\n"
      "  except OSError as e: print(name, os.strerror(e.errno))\n"
      "attempt('rename', lambda: os.rename('work/a.txt', 'work/b.txt'))\n"
      "attempt('rename-out', lambda: os.rename('work/b.txt', 'b.txt'))\n"
      "attempt('truncate', lambda: os.truncate('work/b.txt', 4))\n"
      "attempt('truncate-out', lambda: os.truncate('kept.txt', 0))\n"
      "attempt('chmod', lambda: os.chmod('work/b.txt', 0o640))\n"
      "attempt('chmod-setuid', lambda: os.chmod('work/b.txt', 0o4755))\n"
      "attempt('chmod-out', lambda: os.chmod('kept.txt', 0o777))\n"
      "attempt('utime', lambda: os.utime('work/b.txt', (1000000000, 1000000000)))\n"
      "attempt('link', lambda: os.link('work/b.txt', 'work/c.txt'))\n"
      "attempt('symlink', lambda: os.symlink('/etc/passwd', 'work/p'))\n"
      "attempt('chown', lambda: os.chown('work/b.txt', 0, 0))\n"
      "attempt('etc-chmod', lambda: os.chmod('/usr/bin/python3', 0o777))\n";
  auto inside = run(dir_.path(), {"/usr/bin/python3", "-c", script});
  EXPECT_EQ(inside.exitCode, 0) << inside.output;
  EXPECT_EQ(inside.output,
            "rename ok\nrename-out Permission denied\ntruncate ok\ntruncate-out Permission denied\n"
            "chmod ok\nchmod-setuid Permission denied\nchmod-out Permission denied\nutime ok\n"
            "link Operation not permitted\nsymlink Permission denied\n"
            "chown Operation not permitted\netc-chmod Read-only file system\n");
  // Host-side evidence.
  EXPECT_FALSE(pathExists(dir_.file("work/a.txt")));
  EXPECT_EQ(readFile(dir_.file("work/b.txt")), "0123");
  EXPECT_EQ(readFile(dir_.file("kept.txt")), "kept\n");
  EXPECT_FALSE(pathExists(dir_.file("b.txt")));
  EXPECT_FALSE(pathExists(dir_.file("work/c.txt")));
  EXPECT_FALSE(pathExists(dir_.file("work/p")));
  struct stat st;
  ASSERT_EQ(stat(dir_.file("work/b.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_mtime, 1000000000);
  ASSERT_EQ(stat(dir_.file("kept.txt").c_str(), &st), 0);
  EXPECT_NE(st.st_mode & 0777, 0777u);
  // On record: the rename admitted before it moved anything, the refusals as denies.
  bool renamed = false;
  for (auto& record : records("fs.rename.admitted")) {
    renamed |= record["args"]["from"] == dir_.file("work/a.txt");
  }
  EXPECT_TRUE(renamed) << readFile(auditLog());
  bool refusedRename = false;
  for (auto& record : records("fs.rename")) {
    refusedRename |= record["args"]["to"] == dir_.file("b.txt") && record["decision"] == "deny";
  }
  EXPECT_TRUE(refusedRename) << readFile(auditLog());
  EXPECT_EQ(recordFor("fs.link", dir_.file("work/c.txt"))["decision"], "deny");
  EXPECT_EQ(recordFor("fs.symlink", dir_.file("work/p"))["decision"], "deny");
  EXPECT_EQ(recordFor("fs.open", dir_.file("kept.txt"))["decision"], "deny");
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

// A file's mode, owner, times and extended attributes are beyond Landlock: through a directory
// the broker passed, the kernel would change a host file no rule grants. So fchmodat2 is brokered
// like fchmodat, every route the broker does not answer is never granted, even by name, and
// extended attributes are answered EOPNOTSUPP without running. A mode carrying file-type bits
// (bzip2 passes a whole st_mode) is judged on its permission bits, as the kernel reads it.
TEST_F(AirlockRunTest, AModeTimesOrXattrChangeByAnyRouteIsTheBrokersOrNobodys) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  ASSERT_EQ(mkdir(dir_.file("work").c_str(), 0755), 0);
  dir_.write("work/b.txt", "b\n");
  dir_.write("outside.txt", "outside\n");
  ASSERT_EQ(chmod(dir_.file("outside.txt").c_str(), 0600), 0);
  std::string work = dir_.file("work");
  std::string rules = "[[rule]]\nid = \"write\"\nallow = \"fs.open\"\npath = \"" + work +
                      "/**\"\nmode = [\"read\", \"write\"]\n\n[[rule]]\nid = \"dir\"\n"
                      "allow = \"fs.open\"\npath = \"" + work + "\"\nmode = [\"read\"]\n";
  // Named one by one, the routes the broker does not answer do not load.
  for (const char* route : {"fchmodat2", "futimesat", "utimes", "fsetxattr", "fchmod"}) {
    writePolicy(std::string("[sandbox]\nsyscalls = [\"") + route + "\"]\n\n" + rules);
    auto refused = run(dir_.path(), {"/bin/true"});
    EXPECT_EQ(refused.exitCode, 2) << route << ": " << refused.output;
    EXPECT_NE(refused.output.find(std::string(route) + " is never granted"), std::string::npos)
        << refused.output;
  }
  writePolicy("[sandbox]\nsyscalls = [\"system-info\", \"nss-without-daemons\", "
              "\"xattrs-unsupported\"]\n\n" + rules);
  std::string script =
      "import ctypes, os\n"
      "libc = ctypes.CDLL(None, use_errno=True)\n"
      "def attempt(name, rc):\n"
      "  print(name, 'ok' if rc == 0 else os.strerror(ctypes.get_errno()))\n"
      "d = os.open('" + work + "', os.O_RDONLY | os.O_DIRECTORY)\n"
      "attempt('fchmodat2-out', libc.syscall(452, d, b'../outside.txt', 0o4777, 0))\n"
      "attempt('fchmodat2', libc.syscall(452, d, b'b.txt', 0o100640, 0))\n"
      "f = os.open('" + work + "/b.txt', os.O_RDONLY)\n"
      "attempt('fchmodat2-fd', libc.syscall(452, f, b'', 0o600, 0x1000))\n"
      "attempt('fchmod-type-bits', libc.fchmod(f, 0o100644))\n"
      "attempt('fsetxattr', libc.fsetxattr(f, b'user.x', b'1', 1, 0))\n"
      "attempt('getxattr-out', libc.getxattr(b'" + dir_.path() + "/outside.txt', b'user.x', "
      "None, 0))\n";
  auto inside = run(dir_.path(), {"/usr/bin/python3", "-c", script});
  EXPECT_EQ(inside.exitCode, 0) << inside.output;
  EXPECT_EQ(inside.output,
            "fchmodat2-out Permission denied\nfchmodat2 ok\nfchmodat2-fd ok\n"
            "fchmod-type-bits ok\nfsetxattr Operation not supported\n"
            "getxattr-out Operation not supported\n");
  struct stat st;
  ASSERT_EQ(stat(dir_.file("outside.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(stat(dir_.file("work/b.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(recordFor("fs.open", dir_.file("outside.txt"))["decision"], "deny");
  expectLogVerifies();
}

// A run whose sandbox cannot start (here: a script whose interpreter the sandbox does not have)
// still ends on record and closes its log. An audit "log" that keeps nothing (/dev/null, a FIFO)
// is refused before the program runs.
TEST_F(AirlockRunTest, ARunThatCannotStartEndsOnRecordAndALogThatKeepsNothingRunsNothing) {
  dir_.write("script", "#!/no/such/interpreter\n");
  ASSERT_EQ(chmod(dir_.file("script").c_str(), 0755), 0);
  writePolicy("");
  auto failed = run(dir_.path(), {dir_.file("script")});
  EXPECT_EQ(failed.exitCode, 125) << failed.output;
  EXPECT_NE(failed.output.find(dir_.file("script") + " is a script for /no/such/interpreter, "
                               "which the sandbox does not show"),
            std::string::npos) << failed.output;
  auto exits = records("run.exit");
  ASSERT_EQ(exits.size(), 1u) << readFile(auditLog());
  EXPECT_EQ(exits[0].value("result", "").rfind("not started: ", 0), 0u) << exits[0].dump();
  auto closed = runProgram(
      {binDir() + "/airlock", "audit", "verify", auditLog(), "--require-closed"});
  EXPECT_EQ(closed.exitCode, 0) << closed.output;

  for (const std::string& keepsNothing : {std::string("/dev/null"), dir_.file("fifo")}) {
    if (keepsNothing != "/dev/null") {
      ASSERT_EQ(mkfifo(keepsNothing.c_str(), 0600), 0);
    }
    auto refused = runIn(dir_.path(), {binDir() + "/airlock", "run", "--policy", policy(),
                                       "--audit", keepsNothing, "--", "/bin/echo",
                                       "PROGRAM-RAN"});
    EXPECT_EQ(refused.exitCode, 125) << keepsNothing << ": " << refused.output;
    EXPECT_NE(refused.output.find("the audit log must be a regular file"), std::string::npos)
        << refused.output;
    EXPECT_EQ(refused.output.find("PROGRAM-RAN"), std::string::npos) << refused.output;
  }
}

// Learning, a program does within its learn_paths what it will do under the rules drafted from
// them: a descriptor it made there can be chmod'ed (gzip gives its output the input's mode), and
// its working directory there lists as it does outside, on record.
TEST_F(AirlockRunTest, ALearningRunTreatsItsLearnPathsAsTheEnforcedRunTreatsItsRules) {
  if (access("/usr/bin/gzip", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/gzip";
  ASSERT_EQ(mkdir(dir_.file("work").c_str(), 0755), 0);
  dir_.write("work/in.txt", "some text to compress\n");
  ASSERT_EQ(chmod(dir_.file("work/in.txt").c_str(), 0640), 0);
  dir_.write("policy.toml", "[unit]\nname = \"run\"\nmode = \"learn\"\njustification = \"what "
                            "does gzip need\"\nlearn_paths = [\"" + dir_.file("work") + "/**\", \"" +
                            dir_.file("work") + "\"]\n");
  auto gzip = run(dir_.file("work"), {"/usr/bin/gzip", "-k", "in.txt"});
  EXPECT_EQ(gzip.exitCode, 0) << gzip.output;
  struct stat st;
  ASSERT_EQ(stat(dir_.file("work/in.txt.gz").c_str(), &st), 0) << gzip.output;
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  auto ls = run(dir_.file("work"), {"/bin/ls"});
  EXPECT_EQ(ls.exitCode, 0) << ls.output;
  EXPECT_NE(ls.output.find("in.txt.gz"), std::string::npos) << ls.output;
  expectLogVerifies();
}

// A rule whose root covers something the sandbox binds (an exact path's root is its parent
// directory) leaves what is bound to the kernel: a python worker's own script, or here a
// read-only path next to the file the rule names, is read as the sandbox shows it.
TEST_F(AirlockRunTest, ARuleRootOverWhatTheSandboxBindsLeavesItToTheKernel) {
  ASSERT_EQ(mkdir(dir_.file("lib").c_str(), 0755), 0);
  dir_.write("lib/module.txt", "bound read-only\n");
  dir_.write("lib/data.txt", "data\n");
  writePolicy("[sandbox]\nread_only_paths = [\"" + dir_.file("lib/module.txt") + "\"]\n\n"
              "[[rule]]\nid = \"stat-data\"\nallow = \"fs.stat\"\npath = \"" +
              dir_.file("lib/data.txt") + "\"\n");
  auto ran = run(dir_.path(), {"/bin/cat", dir_.file("lib/module.txt")});
  EXPECT_EQ(ran.exitCode, 0) << ran.output;
  EXPECT_EQ(ran.output, "bound read-only\n");
  EXPECT_TRUE(recordFor("fs.open", dir_.file("lib/module.txt")).is_null())
      << readFile(auditLog());
}

// A brokered stat shows a file's owner as the sandbox's kernel shows it in the fstat of a passed
// descriptor (the one mapped id, or the overflow id), never the host's raw ids: tar and ls see one
// owner per file whichever way they ask.
TEST_F(AirlockRunTest, ABrokeredStatShowsTheOwnerAsTheSandboxShowsADescriptors) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  dir_.write("owned.txt", "x");
  writePolicy("[sandbox]\nsyscalls = [\"system-info\", \"nss-without-daemons\"]\n\n"
              "[[rule]]\nid = \"read\"\nallow = \"fs.open\"\npath = \"" + dir_.path() +
              "/**\"\nmode = [\"read\"]\n\n[[rule]]\nid = \"stat\"\nallow = \"fs.stat\"\n"
              "path = \"" + dir_.path() + "/**\"\n");
  std::string script =
      "import os\n"
      "s = os.stat('owned.txt'); f = os.fstat(os.open('owned.txt', os.O_RDONLY))\n"
      "print(s.st_uid == f.st_uid, s.st_gid == f.st_gid, s.st_uid)\n";
  auto inside = run(dir_.path(), {"/usr/bin/python3", "-c", script});
  EXPECT_EQ(inside.exitCode, 0) << inside.output;
  EXPECT_EQ(inside.output.rfind("True True ", 0), 0u) << inside.output;
  EXPECT_EQ(inside.output.find("True True 0\n"), std::string::npos) << "a host id: "
                                                                     << inside.output;
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

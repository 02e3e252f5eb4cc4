// `airlock policy suggest`'s engine and its rendering: the narrowest rules for the evidence,
// globs only where they must be, never outside the learn bounds, the same output for the same
// evidence in any order.

#include "broker/policy/suggest/suggest.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "broker/policy/suggest/suggest_render.h"

namespace airlock::policy {
namespace {

Evidence fsOpen(const std::string& path, std::initializer_list<OpenMode> modes, uint64_t seq) {
  Evidence e;
  e.operation = Operation::FS_OPEN;
  e.path = path;
  for (OpenMode m : modes) e.modes.add(m);
  e.seq = seq;
  return e;
}

Evidence fsPath(Operation op, const std::string& path, uint64_t seq) {
  Evidence e;
  e.operation = op;
  e.path = path;
  e.seq = seq;
  return e;
}

Evidence connect(const std::string& host, uint16_t port, uint64_t seq) {
  Evidence e;
  e.operation = Operation::NET_CONNECT;
  e.host = host;
  e.port = port;
  e.seq = seq;
  return e;
}

PathPattern pattern(const std::string& text) {
  std::string error;
  return PathPattern::parse(text, error).value();
}

std::vector<std::string> texts(const Suggestion& s) {
  std::vector<std::string> out;
  for (auto& r : s.rules) {
    out.push_back(r.rule.id + " " + operationName(r.rule.operation) + " " +
                  (r.rule.pathPattern() ? r.rule.pathPattern()->text() + " " : "") +
                  (r.rule.operation == Operation::FS_OPEN ? r.rule.openModes().describe() : ""));
  }
  return out;
}

TEST(SuggestTest, ExactPathsByOperationAndModesWithTheirEvidence) {
  Suggestion s = suggestRules({fsOpen("/srv/in/a.png", {OpenMode::READ}, 7),
                               fsOpen("/srv/in/a.png", {OpenMode::READ}, 3),
                               fsOpen("/srv/out/a.txt", {OpenMode::WRITE, OpenMode::CREATE}, 9),
                               fsPath(Operation::FS_STAT, "/srv/in/a.png", 5)},
                              SuggestOptions{});
  EXPECT_EQ(texts(s), (std::vector<std::string>{"fs-open-1 fs.open /srv/in/a.png read",
                                                "fs-open-2 fs.open /srv/out/a.txt write,create",
                                                "fs-stat-1 fs.stat /srv/in/a.png "}));
  EXPECT_EQ(s.rules[0].evidence.count, 2u);
  EXPECT_EQ(s.rules[0].evidence.firstSeq, 3u);
  EXPECT_EQ(s.rules[0].evidence.lastSeq, 7u);
  EXPECT_TRUE(s.rules[0].why.empty());
}

TEST(SuggestTest, SiblingsCollapseToADirectoryGlobOnlyPastTheThreshold) {
  std::vector<Evidence> evidence;
  for (int i = 0; i < 3; ++i) {
    evidence.push_back(fsOpen("/srv/in/" + std::to_string(i) + ".png", {OpenMode::READ}, i + 1));
  }
  SuggestOptions options;
  options.collapse = 3;
  EXPECT_EQ(suggestRules(evidence, options).rules.size(), 3u);
  options.collapse = 2;
  Suggestion s = suggestRules(evidence, options);
  ASSERT_EQ(s.rules.size(), 1u);
  EXPECT_EQ(s.rules[0].rule.fs().path.text(), "/srv/in/*");
  EXPECT_EQ(s.rules[0].evidence.count, 3u);
  EXPECT_NE(s.rules[0].why.find("3 paths of /srv/in were used"), std::string::npos);
}

TEST(SuggestTest, BeneathADirectoryTheRunMadeTheRuleIsRootedWhereItExisted) {
  Suggestion s = suggestRules({fsPath(Operation::FS_MKDIR, "/srv/out/docs", 1),
                               fsPath(Operation::FS_MKDIR, "/srv/out/docs/nested", 2),
                               fsOpen("/srv/out/docs/nested/a", {OpenMode::WRITE}, 3),
                               fsOpen("/srv/out/top", {OpenMode::WRITE}, 4)},
                              SuggestOptions{});
  EXPECT_EQ(texts(s), (std::vector<std::string>{"fs-open-1 fs.open /srv/out/** write",
                                                "fs-mkdir-1 fs.mkdir /srv/out/** "}));
  EXPECT_EQ(s.rules[0].evidence.count, 2u);  // /srv/out/top folded into the glob
}

TEST(SuggestTest, NothingOutsideTheLearnBoundsAndNoGlobBeyondThem) {
  SuggestOptions options;
  options.collapse = 1;
  options.learnPaths = {pattern("/srv/in/*.png")};
  Suggestion s = suggestRules({fsOpen("/srv/in/a.png", {OpenMode::READ}, 1),
                               fsOpen("/srv/in/b.png", {OpenMode::READ}, 2),
                               fsOpen("/etc/passwd", {OpenMode::READ}, 3)},
                              options);
  EXPECT_EQ(s.outsideLearnPaths, 1u);
  // "/srv/in/*" would reach past "/srv/in/*.png": the exact paths stay.
  EXPECT_EQ(texts(s), (std::vector<std::string>{"fs-open-1 fs.open /srv/in/a.png read",
                                                "fs-open-2 fs.open /srv/in/b.png read"}));
}

TEST(SuggestTest, ConnectionsByHostWithTheirPorts) {
  Suggestion s = suggestRules({connect("api.example.org", 443, 1), connect("10.0.0.7", 5432, 2),
                               connect("api.example.org", 8443, 3)},
                              SuggestOptions{});
  ASSERT_EQ(s.rules.size(), 2u);
  EXPECT_EQ(s.rules[0].rule.net().hostBlocks.at(0).describe(), "10.0.0.7/32");
  EXPECT_EQ(s.rules[1].rule.net().hostNames, std::vector<std::string>{"api.example.org"});
  EXPECT_EQ(s.rules[1].rule.net().ports.size(), 2u);
  RenderOptions render;
  render.unit = "u";
  std::string text = renderRules(s, render);
  EXPECT_NE(text.find("host = [\"api.example.org\"]\nport = [443, 8443]\n"), std::string::npos)
      << text;
}

TEST(SuggestTest, TheSameEvidenceInAnyOrderGivesTheSameText) {
  std::vector<Evidence> evidence = {fsOpen("/srv/in/b", {OpenMode::READ}, 4),
                                    fsOpen("/srv/in/a", {OpenMode::READ}, 2),
                                    fsPath(Operation::FS_LIST, "/srv/in", 1),
                                    connect("example.org", 80, 3)};
  RenderOptions render;
  render.unit = "u";
  std::string first = renderRules(suggestRules(evidence, SuggestOptions{}), render);
  std::reverse(evidence.begin(), evidence.end());
  EXPECT_EQ(renderRules(suggestRules(evidence, SuggestOptions{}), render), first);
}

TEST(SuggestTest, ADangerousAllowanceIsWrittenWithAnEmptyJustificationAndDefinesAreUsed) {
  Suggestion s = suggestRules({fsOpen("/etc/app.conf", {OpenMode::WRITE}, 12),
                               fsOpen("/srv/data/in.txt", {OpenMode::READ}, 13)},
                              SuggestOptions{});
  RenderOptions render;
  render.unit = "app";
  render.defines = {{"data", "/srv/data"}, {"srv", "/srv"}};
  std::string text = renderRules(s, render);
  EXPECT_NE(text.find("# DANGEROUS: grants write access under /etc"), std::string::npos) << text;
  EXPECT_NE(text.find("path = \"/etc/app.conf\"\nmode = [\"write\"]\njustification = \"\"\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("path = \"${data}/in.txt\""), std::string::npos) << text;  // longest wins
  EXPECT_NE(text.find("# 1 request(s), seq 12 to 12: airlock audit query --unit app --op fs.open"),
            std::string::npos)
      << text;
}

Evidence syscall(const std::string& name, uint64_t seq) {
  Evidence e;
  e.syscall = name;
  e.seq = seq;
  return e;
}

TEST(SuggestTest, SyscallsBecomeTheNarrowestGroupAndNeverANeverGrantedOne) {
  Suggestion s = suggestRules({syscall("statfs", 4), syscall("statfs", 9), syscall("ptrace", 5),
                               syscall("kexec_load", 6)},
                              SuggestOptions{});
  ASSERT_EQ(s.syscalls.size(), 1u);
  EXPECT_EQ(s.syscalls[0].entry, "fs-metadata");
  EXPECT_EQ(s.syscalls[0].seen, std::vector<std::string>{"statfs"});
  EXPECT_EQ(s.syscalls[0].evidence.count, 2u);
  EXPECT_TRUE(s.syscalls[0].danger.empty());
  RenderOptions render;
  render.unit = "u";
  std::string text = renderRules(s, render);
  EXPECT_NE(text.find("[sandbox]\nsyscalls = [\"fs-metadata\"]\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("ptrace"), std::string::npos) << text;
  EXPECT_EQ(text.find("justification"), std::string::npos) << text;
}

TEST(SuggestTest, PathsAreWrittenAsTomlStrings) {
  EXPECT_EQ(tomlString("/a\"b\\c\n"), "\"/a\\\"b\\\\c\\u000a\"");
}

// A directory a worker named goes into the glob's comment too: a newline there would end the
// comment and write the rest into the policy as TOML, a DEL makes the file unloadable.
TEST(SuggestTest, APathInACommentCannotEndTheCommentNorBreakTheFile) {
  std::vector<Evidence> evidence;
  std::string dir = "/srv/in/x\x7f\x1b";
  for (int i = 0; i < 3; ++i) {
    evidence.push_back(fsOpen(dir + "/" + std::to_string(i), {OpenMode::READ}, i + 1));
  }
  SuggestOptions options;
  options.collapse = 2;
  Suggestion s = suggestRules(evidence, options);
  ASSERT_EQ(s.rules.size(), 1u);
  // Whatever reaches the reason, a newline included.
  s.rules[0].why += "\n[[rule]]\nallow = \"fs.open\"\npath = \"/**\"";
  RenderOptions render;
  render.unit = "u";
  std::string text = renderRules(s, render);
  size_t rules = 0;
  for (size_t at = text.find("[[rule]]"); at != std::string::npos; at = text.find("[[rule]]", at + 1)) {
    if (at == 0 || text[at - 1] == '\n') ++rules;
  }
  EXPECT_EQ(rules, 1u) << text;
  EXPECT_EQ(text.find('\x7f'), std::string::npos) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_NE(text.find("# a glob: 3 paths of /srv/in/x\\u007f\\u001b were used"),
            std::string::npos) << text;
  EXPECT_NE(text.find("\\u000a[[rule]]\\u000aallow"), std::string::npos) << text;
}

}  // namespace
}  // namespace airlock::policy

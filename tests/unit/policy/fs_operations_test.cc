// fs.stat, fs.list, fs.mkdir, fs.unlink, fs.rename and fs.symlink rules: loaded from a file with
// errors at file:line:col, decided with fs.open's ranking but no modes, explained with the
// broker's own decide functions, linted, reviewed (dangerous.h) and part of the revision.

#include <gtest/gtest.h>

#include "broker/policy/decide/decide.h"
#include "broker/policy/load/policy_loader.h"
#include "broker/policy/model/dangerous.h"
#include "broker/policy/model/revision.h"
#include "broker/policy/model/symlink_target.h"
#include "broker/policy/review/explain.h"
#include "broker/policy/review/policy_diff.h"
#include "tests/unit/policy/one_file_policy.h"
#include "tests/unit/policy/temp_policy_dir.h"

namespace airlock::policy {
namespace {

const char HEAD[] = R"([unit]
name = "extractor"
worker = "/bin/true"

)";

const char RULES[] = R"([[rule]]
id = "out-stat"
allow = "fs.stat"
path = "/srv/out/**"

[[rule]]
id = "out-list"
allow = "fs.list"
path = "/srv/out/**"

[[rule]]
id = "out-mkdir"
allow = "fs.mkdir"
path = "/srv/out/**"

[[rule]]
id = "out-unlink"
allow = "fs.unlink"
path = "/srv/out/**"

[[rule]]
id = "logs-unlink"
deny = "fs.unlink"
path = "/srv/out/logs/**"

[[rule]]
id = "out-rename"
allow = "fs.rename"
path = "/srv/out/**"

[[rule]]
id = "in-rename"
allow = "fs.rename"
path = "/srv/in/**"

[[rule]]
id = "out-symlink"
allow = "fs.symlink"
path = "/srv/out/**"

[[rule]]
id = "tied-allow"
allow = "fs.stat"
path = "/srv/tie/*"

[[rule]]
id = "tied-deny"
deny = "fs.stat"
path = "/srv/tie/*"
)";

class FsOperationsTest : public ::testing::Test {
 protected:
  LoadResult load(const std::string& rules) { return file_.load(rules); }
  const UnitPolicy& loaded() {
    result_ = load(RULES);
    EXPECT_TRUE(result_.ok()) << (result_.errors.empty() ? "" : result_.errors[0].describe());
    return result_.units.at(0);
  }
  std::vector<std::string> errors(const std::string& rules) { return file_.errors(rules); }

  testing::OneFilePolicy file_{"extractor.toml", HEAD};
  LoadResult result_;
};

TEST_F(FsOperationsTest, EachOperationLoadsWithAPathAndNoMode) {
  const UnitPolicy& unit = loaded();
  ASSERT_EQ(unit.rules.size(), 10u);
  EXPECT_EQ(unit.rules[0].operation, Operation::FS_STAT);
  EXPECT_EQ(unit.rules[1].operation, Operation::FS_LIST);
  EXPECT_EQ(unit.rules[2].operation, Operation::FS_MKDIR);
  EXPECT_EQ(unit.rules[3].operation, Operation::FS_UNLINK);
  EXPECT_EQ(unit.rules[5].operation, Operation::FS_RENAME);
  EXPECT_EQ(unit.rules[7].operation, Operation::FS_SYMLINK);
  EXPECT_EQ(unit.rules[0].fs().path.root(), "/srv/out");
  EXPECT_EQ(unit.rules[0].fs().modes.bits, 0);
  EXPECT_TRUE(unit.allowsAnyFs()) << "any fs.* allow hands over the fs capability";
  EXPECT_FALSE(unit.allowsAny(Operation::FS_OPEN));
  EXPECT_TRUE(unit.allowsAny(Operation::FS_SYMLINK));
}

TEST_F(FsOperationsTest, AModeOnAPathOperationOrAMissingPathIsAnErrorAtItsLocation) {
  EXPECT_EQ(errors("[[rule]]\nid = \"s\"\nallow = \"fs.stat\"\npath = \"/srv/**\"\n"
                   "mode = [\"read\"]\n\n[[rule]]\nid = \"m\"\nallow = \"fs.mkdir\"\n"),
            (std::vector<std::string>{
                "D/extractor.toml:9:1: rule \"s\": key \"mode\" applies only to fs.open, grant rules, "
                "not fs.stat",
                "D/extractor.toml:11:1: rule \"m\": missing required key \"path\""}));
  EXPECT_EQ(errors("[[rule]]\nid = \"n\"\nallow = \"fs.list\"\npath = \"/srv/**\"\n"
                   "name = [\"x\"]\n"),
            (std::vector<std::string>{"D/extractor.toml:9:1: rule \"n\": key \"name\" applies only "
                                      "to secrets.get rules, not fs.list"}));
  EXPECT_EQ(errors("[[rule]]\nid = \"p\"\nallow = \"fs.unlink\"\npath = \"srv/**\"\n"),
            (std::vector<std::string>{"D/extractor.toml:8:8: rule \"p\": path \"srv/**\": path "
                                      "pattern must be absolute (start with '/')"}));
}

TEST_F(FsOperationsTest, TheMostSpecificRuleOfTheOperationDecidesAndDenyWinsTies) {
  const UnitPolicy& unit = loaded();
  Decision unlink = decideFsPath(unit, Operation::FS_UNLINK, "/srv/out/a.txt");
  EXPECT_TRUE(unlink.allowed());
  EXPECT_EQ(unlink.ruleId, "out-unlink");
  EXPECT_EQ(unlink.reason, "allowed by rule \"out-unlink\" (" + file_.dir() +
                               "/extractor.toml:20): path matches /srv/out/**");
  EXPECT_EQ(decideFsPath(unit, Operation::FS_UNLINK, "/srv/out/logs/x").ruleId, "logs-unlink");
  EXPECT_FALSE(decideFsPath(unit, Operation::FS_UNLINK, "/srv/out/logs/x").allowed());
  Decision tie = decideFsPath(unit, Operation::FS_STAT, "/srv/tie/x");
  EXPECT_FALSE(tie.allowed());
  EXPECT_EQ(tie.ruleId, "tied-deny");
  EXPECT_NE(tie.reason.find("deny wins the tie with allow rule \"tied-allow\""),
            std::string::npos);
}

TEST_F(FsOperationsTest, AGrantOfOneOperationGrantsNoOther) {
  const UnitPolicy& unit = loaded();
  // out-stat allows fs.stat only: not fs.open, nor an operation with no rule of its own here.
  EXPECT_FALSE(decideFsOpen(unit, "/srv/out/a", OpenModes{1}).allowed());
  Decision list = decideFsPath(unit, Operation::FS_LIST, "/srv/tie/x");
  EXPECT_EQ(list.ruleId, DEFAULT_DENY_RULE_ID);
  EXPECT_EQ(list.reason, "no rule allows fs.list of /srv/tie/x");
  Decision escape = decideFsPath(unit, Operation::FS_MKDIR, "/srv/out/../etc");
  EXPECT_EQ(escape.ruleId, DEFAULT_DENY_RULE_ID);
  EXPECT_EQ(escape.reason.rfind("refused fs.mkdir of \"/srv/out/../etc\": ", 0), 0u)
      << escape.reason;
  EXPECT_FALSE(decideFsPath(unit, Operation::FS_OPEN, "/srv/out/a").allowed())
      << "fs.open is decided with modes, never by path alone";
}

TEST_F(FsOperationsTest, ARenameNeedsBothPathsAllowedBeneathOneRoot) {
  const UnitPolicy& unit = loaded();
  Decision within = decideFsRename(unit, "/srv/out/a", "/srv/out/sub/b");
  EXPECT_TRUE(within.allowed()) << within.reason;
  EXPECT_EQ(within.ruleId, "out-rename");
  EXPECT_EQ(within.reason.rfind("from: allowed by rule \"out-rename\"", 0), 0u) << within.reason;

  Decision across = decideFsRename(unit, "/srv/in/a", "/srv/out/a");
  EXPECT_FALSE(across.allowed());
  EXPECT_EQ(across.ruleId, "out-rename");
  EXPECT_NE(across.reason.find("a rename stays beneath one root"), std::string::npos);

  Decision outOfGrant = decideFsRename(unit, "/srv/out/a", "/etc/passwd");
  EXPECT_FALSE(outOfGrant.allowed());
  EXPECT_EQ(outOfGrant.ruleId, DEFAULT_DENY_RULE_ID);
  EXPECT_EQ(outOfGrant.reason, "no rule allows fs.rename of /etc/passwd");
  EXPECT_EQ(decideFsRename(unit, "/etc/passwd", "/srv/out/a").reason,
            "no rule allows fs.rename of /etc/passwd");
}

TEST_F(FsOperationsTest, ASymlinkIsAllowedOnlyWithATargetThatStaysBeneathTheRoot) {
  const UnitPolicy& unit = loaded();
  EXPECT_TRUE(decideFsSymlink(unit, "/srv/out/a/link", "../b/file").allowed());
  Decision climbs = decideFsSymlink(unit, "/srv/out/a/link", "../../etc/passwd");
  EXPECT_FALSE(climbs.allowed());
  EXPECT_EQ(climbs.ruleId, "out-symlink") << "the rule that matched the link's path refuses it";
  EXPECT_NE(climbs.reason.find("climbs above /srv/out"), std::string::npos) << climbs.reason;
  EXPECT_FALSE(decideFsSymlink(unit, "/srv/out/link", "/etc/passwd").allowed());
  EXPECT_EQ(decideFsSymlink(unit, "/srv/in/link", "x").ruleId, DEFAULT_DENY_RULE_ID);
}

TEST(SymlinkTargetTest, OnlyRelativeTargetsWithLeadingDotDotsThatStayBeneathTheRootPass) {
  const std::string root = "/srv/out";
  EXPECT_FALSE(refuseSymlinkTarget(root, "/srv/out/l", "file").refuses());
  EXPECT_FALSE(refuseSymlinkTarget(root, "/srv/out/a/b/l", "../../x").refuses());
  EXPECT_FALSE(refuseSymlinkTarget(root, "/srv/out/a/l", "..").refuses()) << "the root itself";
  EXPECT_FALSE(refuseSymlinkTarget(root, "/srv/out/a/l", "./x/./y").refuses());
  EXPECT_TRUE(refuseSymlinkTarget(root, "/srv/out/l", "..").refuses());
  EXPECT_TRUE(refuseSymlinkTarget(root, "/srv/out/a/b/l", "../../../out/x").refuses())
      << "even returning below the root: it passes above it on the way";
  EXPECT_TRUE(refuseSymlinkTarget(root, "/srv/out/a/l", "x/..").refuses())
      << "'..' after a name: were x a link to '..', this would be /srv";
  EXPECT_TRUE(refuseSymlinkTarget(root, "/srv/out/l", "/srv/out/x").refuses());
  EXPECT_TRUE(refuseSymlinkTarget(root, "/srv/out/l", "").refuses());
  EXPECT_TRUE(refuseSymlinkTarget(root, "/srv/out/l", std::string("a\0b", 3)).refuses());
  EXPECT_TRUE(refuseSymlinkTarget(root, "/srv/out/l", std::string(5000, 'a')).refuses());
  EXPECT_FALSE(refuseSymlinkTarget("/", "/l", "etc/passwd").refuses());
  EXPECT_TRUE(refuseSymlinkTarget("/", "/l", "../etc").refuses());
}

TEST(TempPrefixTest, APrefixIsAShortVisibleFileNamePart) {
  EXPECT_FALSE(validateTempPrefix("").refuses());
  EXPECT_FALSE(validateTempPrefix("upload-1.part_").refuses());
  EXPECT_FALSE(validateTempPrefix(std::string(64, 'a')).refuses());
  EXPECT_TRUE(validateTempPrefix(std::string(65, 'a')).refuses());
  EXPECT_TRUE(validateTempPrefix(".hidden").refuses());
  EXPECT_TRUE(validateTempPrefix("a/b").refuses());
  EXPECT_TRUE(validateTempPrefix("a b").refuses());
}

TEST_F(FsOperationsTest, ExplainUsesTheBrokersDecisionsForEachOperation) {
  const UnitPolicy& unit = loaded();
  std::vector<UnitPolicy> units = {unit};
  Explanation stat = explain(units, {"extractor", "fs.stat", {{"path", "/srv/tie/x"}}});
  EXPECT_EQ(stat.error, "");
  EXPECT_EQ(stat.decision.ruleId, "tied-deny");
  ASSERT_EQ(stat.lost.size(), 1u);
  EXPECT_EQ(stat.lost[0].rule->id, "tied-allow");
  EXPECT_EQ(stat.request, "fs.stat /srv/tie/x in unit extractor");

  Explanation rename =
      explain(units, {"extractor", "fs.rename", {{"from", "/srv/in/a"}, {"to", "/srv/out/b"}}});
  EXPECT_EQ(rename.error, "");
  EXPECT_FALSE(rename.decision.allowed());
  EXPECT_EQ(rename.decision.reason,
            decideFsRename(units[0], "/srv/in/a", "/srv/out/b").reason);
  EXPECT_EQ(rename.request, "fs.rename /srv/in/a -> /srv/out/b in unit extractor");
  ASSERT_EQ(rename.lost.size(), 1u);
  EXPECT_EQ(rename.lost[0].rule->id, "in-rename");

  Explanation symlink = explain(
      units, {"extractor", "fs.symlink", {{"path", "/srv/out/l"}, {"target", "../../etc"}}});
  EXPECT_FALSE(symlink.decision.allowed());
  EXPECT_EQ(symlink.decision.ruleId, "out-symlink");

  EXPECT_EQ(explain(units, {"extractor", "fs.rename", {{"from", "/srv/out/a"}}}).error,
            "fs.rename needs --arg to=...");
  EXPECT_EQ(explain(units, {"extractor", "fs.mkdir", {{"path", "/a"}, {"mode", "read"}}}).error,
            "unknown argument \"mode\" for fs.mkdir (takes path)");
}

TEST_F(FsOperationsTest, WriteOperationsAtTheRootOrUnderASystemDirectoryNeedAJustification) {
  for (std::string op : {"fs.mkdir", "fs.unlink", "fs.rename", "fs.symlink"}) {
    std::string rule = "[[rule]]\nid = \"w\"\nallow = \"" + op + "\"\npath = \"/etc/app/**\"\n";
    EXPECT_EQ(errors(rule), (std::vector<std::string>{
                                "D/extractor.toml:5:1: rule \"w\": grants write access under "
                                "/etc, a system directory, not a data directory: a dangerous "
                                "allowance needs justification = \"...\" saying why (the "
                                "security team's review; see docs/policy.md)"}))
        << op;
    EXPECT_TRUE(load(rule + "justification = \"ticket SEC-9\"\n").ok()) << op;
    Rule atRoot;
    atRoot.effect = Effect::ALLOW;
    setOperation(atRoot, load(rule + "justification = \"x\"\n").units[0].rules[0].operation);
    std::string error;
    atRoot.fs().path = *PathPattern::parse("/*", error);
    EXPECT_NE(dangerousAllowance(atRoot).find("write access at the file system root"),
              std::string::npos)
        << op;
  }
  // Looking is not writing; the whole file system is dangerous for any operation.
  EXPECT_TRUE(load("[[rule]]\nid = \"s\"\nallow = \"fs.stat\"\npath = \"/etc/**\"\n").ok());
  EXPECT_FALSE(load("[[rule]]\nid = \"l\"\nallow = \"fs.list\"\npath = \"/**\"\n").ok());
}

TEST_F(FsOperationsTest, LintReportsARepeatedOrShadowedRuleOfTheSameOperationOnly) {
  LoadResult r = load(
      "[[rule]]\nid = \"c\"\nallow = \"call\"\ncaller = [\"web\"]\nmethod = [\"*\"]\n\n"
      "[[rule]]\nid = \"a\"\nallow = \"fs.mkdir\"\npath = \"/srv/**\"\n\n"
      "[[rule]]\nid = \"b\"\nallow = \"fs.mkdir\"\npath = \"/srv/**\"\n\n"
      "[[rule]]\nid = \"u\"\nallow = \"fs.unlink\"\npath = \"/srv/**\"\n\n"
      "[[rule]]\nid = \"d\"\ndeny = \"fs.unlink\"\npath = \"/srv/**\"\n\n"
      "[[rule]]\nid = \"s\"\nallow = \"fs.stat\"\npath = \"/srv/**\"\n");
  ASSERT_TRUE(r.ok());
  std::vector<std::string> warnings;
  for (auto& w : r.warnings) warnings.push_back(w.message);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("rule \"b\" repeats rule \"a\""), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("rule \"u\" can never allow"), std::string::npos) << warnings[1];
}

TEST_F(FsOperationsTest, TheRevisionCoversTheNewOperationsAndPolicyDiffShowsThem) {
  LoadResult before = load(RULES);
  LoadResult after = load(std::string(RULES) + "\n[[rule]]\nid = \"more\"\nallow = \"fs.list\"\n"
                                               "path = \"/srv/more/**\"\n");
  EXPECT_NE(policyRevision(before.units), policyRevision(after.units));
  LoadResult renamed = load(std::string(RULES).replace(std::string(RULES).find("fs.mkdir"), 8,
                                                       "fs.unlink"));
  EXPECT_NE(policyRevision(before.units), policyRevision(renamed.units))
      << "the operation is part of the rule's canonical form";
  PolicyDiff diff = diffPolicies(before, after);
  ASSERT_EQ(diff.units.size(), 1u);
  ASSERT_EQ(diff.units[0].rules.size(), 1u);
  EXPECT_EQ(diff.units[0].rules[0].after.rfind("allow fs.list path=/srv/more/**", 0), 0u)
      << diff.units[0].rules[0].after;
}

TEST(FsOperationsRevisionTest, APolicyWithoutTheNewOperationsKeepsItsRevision) {
  // The thumbnailer policy as it shipped before fs.stat and the rest existed, and the revision it
  // had then: the new operations add cases to the canonical form and change nothing for rules
  // that do not use them. (A copy, so the shipped policy may change without touching this.)
  testing::TempPolicyDir dir;
  dir.write("policies/thumbnailer.toml", R"([unit]
name = "thumbnailer"
worker = "thumbnailer-worker"
instances = 1
call_timeout_ms = 5000
max_payload_bytes = 4096

[[rule]]
id = "images-read-only"
allow = "fs.open"
path = "${images_dir}/**"
mode = ["read"]

[[rule]]
id = "web-may-thumbnail"
allow = "call"
caller = ["web"]
method = ["thumbnail", "open-directly"]
)");
  LoadOptions options;
  options.workerCheck = LoadOptions::WorkerCheck::SKIP;
  options.defines["images_dir"] = "/srv/images";
  LoadResult loaded = loadPolicyDir(dir.path() + "/policies", options);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(policyRevision(loaded.units, loaded.broker.admins),
            "5c42fb9c90cd3fe4777401e8afc3b71d");
}

}  // namespace
}  // namespace airlock::policy

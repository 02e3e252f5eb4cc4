// [unit] mode = "learn": what the loader accepts and refuses, and how a learning unit decides.

#include <gtest/gtest.h>

#include "broker/policy/decide/decide.h"
#include "broker/policy/decide/decide_net.h"
#include "broker/policy/load/policy_loader.h"
#include "broker/policy/model/revision.h"
#include "broker/policy/review/unit_changes.h"
#include "tests/unit/policy/temp_policy_dir.h"

namespace airlock::policy {
namespace {

using testing::TempPolicyDir;

const char HEADER[] = "[unit]\nname = \"lib\"\nworker = \"lib-worker\"\n";

OpenModes modesOf(std::initializer_list<OpenMode> list) {
  OpenModes out;
  for (OpenMode m : list) out.add(m);
  return out;
}

class LearnModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.writeWorker("workers/lib-worker");
    options_.workersDir = dir_.path() + "/workers";
    options_.defines["data"] = "/srv/data";
  }

  LoadResult load(const std::string& unitKeys, const std::string& rest = "") {
    return loadPolicyFile(dir_.write("policies/lib.toml", HEADER + unitKeys + rest), options_);
  }

  // The one unit of a file that must load.
  UnitPolicy loaded(const std::string& unitKeys, const std::string& rest = "") {
    LoadResult r = load(unitKeys, rest);
    EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].describe());
    return r.units.empty() ? UnitPolicy{} : r.units[0];
  }

  // The messages of a file that must not load.
  std::string errorsOf(const std::string& unitKeys, const std::string& rest = "") {
    LoadResult r = load(unitKeys, rest);
    EXPECT_FALSE(r.errors.empty()) << "loaded: " << unitKeys;
    std::string all;
    for (auto& e : r.errors) all += e.describe() + "\n";
    return all;
  }

  TempPolicyDir dir_;
  LoadOptions options_;
};

const char LEARNING[] =
    "mode = \"learn\"\njustification = \"drafting lib's policy on a test box\"\n"
    "learn_paths = [\"${data}/**\"]\nlearn_hosts = [\"example.org\", \"10.0.0.0/8\"]\n";

const char DENY_SECRETS[] =
    "[[rule]]\nid = \"no-secrets\"\ndeny = \"fs.open\"\npath = \"${data}/secret/**\"\n"
    "mode = [\"read\"]\n";

TEST_F(LearnModeTest, AUnitEnforcesUnlessItSaysOtherwise) {
  UnitPolicy unit = loaded("");
  EXPECT_EQ(unit.mode, UnitMode::ENFORCE);
  EXPECT_TRUE(unit.learnGrants.empty());
  EXPECT_FALSE(decideFsOpen(unit, "/srv/data/a.png", modesOf({OpenMode::READ})).allowed());
}

TEST_F(LearnModeTest, LearningIsADangerousAllowanceThatMustBeJustified) {
  std::string errors = errorsOf("mode = \"learn\"\nlearn_paths = [\"${data}/**\"]\n");
  EXPECT_NE(errors.find("lib.toml:4:8: [unit] mode = \"learn\" performs requests no rule allows: "
                        "a dangerous allowance needs justification"),
            std::string::npos)
      << errors;
  errors = errorsOf("mode = \"learn\"\njustification = \"  \"\nlearn_paths = [\"${data}/**\"]\n");
  EXPECT_NE(errors.find("justification must say why"), std::string::npos) << errors;
}

TEST_F(LearnModeTest, LearningNeedsBoundsAndTheyMustBound) {
  EXPECT_NE(errorsOf("mode = \"learn\"\njustification = \"why\"\n").find("needs learn_paths"),
            std::string::npos);
  std::string errors = errorsOf("mode = \"learn\"\njustification = \"why\"\n"
                                "learn_paths = [\"/**\"]\n");
  EXPECT_NE(errors.find("[unit] learn_paths \"/**\" is rooted at /"), std::string::npos) << errors;
  errors = errorsOf("mode = \"learn\"\njustification = \"why\"\nlearn_hosts = [\"0.0.0.0/0\"]\n");
  EXPECT_NE(errors.find("is every address"), std::string::npos) << errors;
  errors = errorsOf("mode = \"learn\"\njustification = \"why\"\n"
                    "learn_paths = [\"${nowhere}/**\"]\n");
  EXPECT_NE(errors.find("[unit] learn_paths \"${nowhere}/**\""), std::string::npos) << errors;
}

TEST_F(LearnModeTest, LearnKeysWithoutLearnModeAreErrors) {
  EXPECT_NE(errorsOf("learn_paths = [\"${data}/**\"]\n").find("has no effect without mode"),
            std::string::npos);
  EXPECT_NE(errorsOf("mode = \"enforce\"\nlearn_hosts = [\"example.org\"]\n")
                .find("learn_hosts has no effect without mode"),
            std::string::npos);
  EXPECT_NE(errorsOf("mode = \"teach\"\n").find("expected \"enforce\" or \"learn\""),
            std::string::npos);
}

TEST_F(LearnModeTest, ARequestWithinLearnPathsIsLearnedNamingTheRuleThatWouldHaveDecided) {
  UnitPolicy unit = loaded(LEARNING, DENY_SECRETS);
  ASSERT_TRUE(unit.learning());
  Decision d = decideFsOpen(unit, "/srv/data/in/a.png", modesOf({OpenMode::READ}));
  EXPECT_EQ(d.verdict, Verdict::LEARN);
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.ruleId, "default-deny");
  EXPECT_STREQ(verdictName(d.verdict), "learn");
  ASSERT_NE(d.rule, nullptr);
  EXPECT_EQ(d.rule->fs().path.root(), "/srv/data");  // where the broker acts beneath
  EXPECT_NE(d.reason.find("within learn_paths \"/srv/data/**\""), std::string::npos) << d.reason;

  // A deny rule is what would have decided: it is named, and the request is still learned.
  d = decideFsOpen(unit, "/srv/data/secret/key", modesOf({OpenMode::READ}));
  EXPECT_EQ(d.verdict, Verdict::LEARN);
  EXPECT_EQ(d.ruleId, "no-secrets");

  d = decideFsPath(unit, Operation::FS_MKDIR, "/srv/data/out/dir");
  EXPECT_EQ(d.verdict, Verdict::LEARN);
  EXPECT_TRUE(decideFsRename(unit, "/srv/data/a", "/srv/data/b").allowed());
}

TEST_F(LearnModeTest, OutsideTheBoundsALearningUnitDeniesAsUsual) {
  UnitPolicy unit = loaded(LEARNING);
  Decision d = decideFsOpen(unit, "/etc/shadow", modesOf({OpenMode::READ}));
  EXPECT_EQ(d.verdict, Verdict::DENY);
  EXPECT_EQ(d.ruleId, "default-deny");
  // A request refused before any rule is looked at is never learned.
  EXPECT_EQ(decideFsOpen(unit, "/srv/data/../../etc/shadow", modesOf({OpenMode::READ})).verdict,
            Verdict::DENY);
  EXPECT_EQ(decideFsPath(unit, Operation::FS_STAT, "/srv/database").verdict, Verdict::DENY);
}

TEST_F(LearnModeTest, AnAllowRuleStillDecidesAsAnAllow) {
  UnitPolicy unit = loaded(LEARNING, "[[rule]]\nid = \"in\"\nallow = \"fs.open\"\n"
                                     "path = \"${data}/in/**\"\nmode = [\"read\"]\n");
  Decision d = decideFsOpen(unit, "/srv/data/in/a.png", modesOf({OpenMode::READ}));
  EXPECT_EQ(d.verdict, Verdict::ALLOW);
  EXPECT_EQ(d.ruleId, "in");
}

TEST_F(LearnModeTest, BeneathASystemDirectoryLearningOnlyReads) {
  UnitPolicy unit = loaded("mode = \"learn\"\njustification = \"why\"\n"
                           "learn_paths = [\"/usr/share/xml/**\"]\n");
  EXPECT_EQ(decideFsOpen(unit, "/usr/share/xml/a.dtd", modesOf({OpenMode::READ})).verdict,
            Verdict::LEARN);
  EXPECT_EQ(decideFsOpen(unit, "/usr/share/xml/a.dtd", modesOf({OpenMode::WRITE})).verdict,
            Verdict::DENY);
  EXPECT_EQ(decideFsPath(unit, Operation::FS_MKDIR, "/usr/share/xml/d").verdict, Verdict::DENY);
  EXPECT_EQ(decideFsPath(unit, Operation::FS_STAT, "/usr/share/xml/d").verdict, Verdict::LEARN);
}

TEST_F(LearnModeTest, ConnectionsAreLearnedOnlyToLearnHosts) {
  UnitPolicy unit = loaded(LEARNING);
  EXPECT_EQ(decideNetConnect(unit, "example.org", 443, nullptr).verdict, Verdict::LEARN);
  EXPECT_EQ(decideNetConnect(unit, "10.1.2.3", 8080, nullptr).verdict, Verdict::LEARN);
  EXPECT_TRUE(netConnectNeedsAddress(unit, "example.org", 443));
  EXPECT_EQ(decideNetConnect(unit, "example.com", 443, nullptr).verdict, Verdict::DENY);
  EXPECT_EQ(decideNetConnect(unit, "192.168.0.1", 443, nullptr).verdict, Verdict::DENY);
  // Addresses no policy may reach stay refused.
  EXPECT_EQ(decideNetConnect(unit, "0.0.0.0", 443, nullptr).verdict, Verdict::DENY);
}

TEST_F(LearnModeTest, LearningCarriesTheCapabilitiesItMayUseAndChangesTheRevision) {
  UnitPolicy learning = loaded(LEARNING);
  EXPECT_TRUE(learning.allowsAnyFs());
  EXPECT_TRUE(learning.allowsAny(Operation::NET_CONNECT));
  UnitPolicy enforcing = loaded("");
  EXPECT_FALSE(enforcing.allowsAnyFs());
  EXPECT_NE(canonicalForm(learning), canonicalForm(enforcing));
}

TEST_F(LearnModeTest, AReloadOutOfLearningReplacesTheWorkersWhoseFiltersLearned) {
  UnitPolicy learning = loaded(LEARNING);
  UnitPolicy enforcing = loaded("");
  UnitChanges changes = compareUnits({learning}, {enforcing});
  EXPECT_EQ(changes.restarted, std::vector<std::string>{"lib"});
}

}  // namespace
}  // namespace airlock::policy

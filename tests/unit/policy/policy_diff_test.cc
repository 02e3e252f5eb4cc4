#include "broker/policy/review/policy_diff.h"

#include <gtest/gtest.h>

#include "tests/unit/policy/temp_policy_dir.h"

namespace airlock::policy {
namespace {

using testing::TempPolicyDir;

std::string unitFile(const std::string& name, int instances, const std::string& rules) {
  return "[unit]\nname = \"" + name + "\"\nworker = \"w\"\ninstances = " +
         std::to_string(instances) + "\n" + rules;
}

const char* const READ_RULE = R"(
[[rule]]
id = "read"
allow = "fs.open"
path = "/srv/**"
mode = ["read"]
)";

const char* const CALL_RULE = R"(
[[rule]]
id = "web-calls"
allow = "call"
caller = ["web"]
method = ["thumbnail"]
)";

class PolicyDiffTest : public ::testing::Test {
 protected:
  void SetUp() override { options_.workerCheck = LoadOptions::WorkerCheck::SKIP; }

  LoadResult load(const std::string& side, const std::map<std::string, std::string>& files) {
    for (auto& [name, text] : files) dir_.write(side + "/" + name, text);
    auto result = loadPolicyDir(dir_.path() + "/" + side, options_);
    EXPECT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].describe());
    return result;
  }

  TempPolicyDir dir_;
  LoadOptions options_;
};

TEST_F(PolicyDiffTest, TheSameMeaningWrittenDifferentlyIsNoChange) {
  auto a = load("a", {{"t.toml", unitFile("t", 1, std::string(READ_RULE) + CALL_RULE)}});
  auto b = load("b", {{"renamed.toml", "# reordered, commented\n" +
                                           unitFile("t", 1, std::string(READ_RULE) + CALL_RULE)}});
  auto diff = diffPolicies(a, b);
  EXPECT_TRUE(diff.empty());
  EXPECT_EQ(diff.revisionBefore, diff.revisionAfter);
}

TEST_F(PolicyDiffTest, RulesAddedRemovedAndChangedAreMatchedById) {
  auto a = load("a", {{"t.toml", unitFile("t", 1, std::string(READ_RULE) + CALL_RULE)}});
  std::string widened = R"(
[[rule]]
id = "read"
allow = "fs.open"
path = "/srv/**"
mode = ["read", "write"]

[[rule]]
id = "token"
allow = "secrets.get"
name = ["api-token"]
)";
  auto b = load("b", {{"t.toml", unitFile("t", 1, widened)}});
  auto diff = diffPolicies(a, b);
  ASSERT_EQ(diff.units.size(), 1u);
  auto& unit = diff.units[0];
  EXPECT_EQ(unit.kind, UnitDiff::CHANGED);
  EXPECT_TRUE(unit.settings.empty());
  ASSERT_EQ(unit.rules.size(), 3u);
  EXPECT_EQ(unit.rules[0].kind, RuleChange::CHANGED);
  EXPECT_EQ(unit.rules[0].id, "read");
  EXPECT_NE(unit.rules[0].before.find("allow fs.open path=/srv/** mode=read  ("),
            std::string::npos) << unit.rules[0].before;
  EXPECT_NE(unit.rules[0].after.find("mode=read,write"), std::string::npos) << unit.rules[0].after;
  EXPECT_EQ(unit.rules[1].kind, RuleChange::ADDED);
  EXPECT_EQ(unit.rules[1].id, "token");
  EXPECT_NE(unit.rules[1].after.find("allow secrets.get name=api-token"), std::string::npos);
  EXPECT_NE(unit.rules[1].after.find("b/t.toml:12:1)"), std::string::npos) << unit.rules[1].after;
  EXPECT_EQ(unit.rules[2].kind, RuleChange::REMOVED);
  EXPECT_EQ(unit.rules[2].id, "web-calls");
  EXPECT_NE(unit.rules[2].before.find("allow call caller=web method=thumbnail"),
            std::string::npos) << unit.rules[2].before;
  EXPECT_NE(diff.revisionBefore, diff.revisionAfter);
}

TEST_F(PolicyDiffTest, InvokeRulesAndCallerUnitsAreSummarised) {
  auto a = load("a", {{"t.toml", unitFile("t", 1, CALL_RULE)}});
  std::string unitRules = R"(
[[rule]]
id = "web-calls"
allow = "call"
caller = ["web"]
caller_unit = ["front", "store"]
method = ["thumbnail"]

[[rule]]
id = "to-store"
deny = "invoke"
unit = ["store"]
method = ["wipe", "*"]
)";
  auto b = load("b", {{"t.toml", unitFile("t", 1, unitRules)}});
  auto diff = diffPolicies(a, b);
  ASSERT_EQ(diff.units.size(), 1u);
  auto& rules = diff.units[0].rules;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].kind, RuleChange::CHANGED);
  EXPECT_NE(rules[0].after.find("allow call caller=web caller_unit=front,store method=thumbnail"),
            std::string::npos) << rules[0].after;
  EXPECT_EQ(rules[1].kind, RuleChange::ADDED);
  EXPECT_NE(rules[1].after.find("deny invoke unit=store method=wipe,*"), std::string::npos)
      << rules[1].after;
}

TEST_F(PolicyDiffTest, UnitsAddedRemovedAndRestartedAreToldApartAsAReloadWould) {
  auto a = load("a", {{"t.toml", unitFile("t", 1, READ_RULE)},
                      {"gone.toml", unitFile("gone", 1, "")}});
  auto b = load("b", {{"t.toml", unitFile("t", 2, READ_RULE)},
                      {"new.toml", unitFile("new", 1, CALL_RULE)},
                      {"broker.toml", "[broker]\nadmins = [\"ops\"]\n"}});
  auto diff = diffPolicies(a, b);
  ASSERT_EQ(diff.units.size(), 3u);
  EXPECT_EQ(diff.units[0].unit, "gone");
  EXPECT_EQ(diff.units[0].kind, UnitDiff::REMOVED);
  EXPECT_EQ(diff.units[1].unit, "new");
  EXPECT_EQ(diff.units[1].kind, UnitDiff::ADDED);
  ASSERT_EQ(diff.units[1].rules.size(), 1u);
  EXPECT_EQ(diff.units[1].rules[0].kind, RuleChange::ADDED);
  EXPECT_EQ(diff.units[2].unit, "t");
  EXPECT_EQ(diff.units[2].kind, UnitDiff::RESTARTED);
  EXPECT_EQ(diff.units[2].settings, std::vector<std::string>{"instances: 1 -> 2"});
  EXPECT_TRUE(diff.units[2].rules.empty());
  EXPECT_EQ(diff.adminsAdded, std::vector<std::string>{"ops"});
  EXPECT_TRUE(diff.adminsRemoved.empty());
}

TEST_F(PolicyDiffTest, RestartAndFlowSettingsAreReportedAndKeepTheWorkers) {
  auto a = load("a", {{"t.toml", unitFile("t", 1, READ_RULE)}});
  auto b = load("b", {{"t.toml", unitFile("t", 1,
                                          "restart = \"never\"\ncrash_loop_limit = 3\n"
                                          "max_calls_in_flight = 5\n" + std::string(READ_RULE))}});
  auto diff = diffPolicies(a, b);
  ASSERT_EQ(diff.units.size(), 1u);
  // The pool reads them when a worker exits: no restart needed.
  EXPECT_EQ(diff.units[0].kind, UnitDiff::CHANGED);
  EXPECT_EQ(diff.units[0].settings,
            (std::vector<std::string>{"restart: always -> never", "crash_loop_limit: 0 -> 3",
                                      "max_calls_in_flight: 0 -> 5"}));
  EXPECT_NE(diff.revisionBefore, diff.revisionAfter);
}

TEST_F(PolicyDiffTest, WorkerReuseIsReportedAndRestartsTheWorkers) {
  auto a = load("a", {{"t.toml", unitFile("t", 1, READ_RULE)}});
  auto b = load("b", {{"t.toml", unitFile("t", 1,
                                          "worker_reuse = \"per-caller\"\n" +
                                              std::string(READ_RULE))}});
  auto diff = diffPolicies(a, b);
  ASSERT_EQ(diff.units.size(), 1u);
  // A worker that served anyone must not carry on bound to one caller.
  EXPECT_EQ(diff.units[0].kind, UnitDiff::RESTARTED);
  EXPECT_EQ(diff.units[0].settings,
            (std::vector<std::string>{"worker_reuse: any -> per-caller"}));
  EXPECT_NE(diff.revisionBefore, diff.revisionAfter);
}

}  // namespace
}  // namespace airlock::policy

#include "broker/policy/model/fs_rule_index.h"

#include <gtest/gtest.h>

#include <random>

#include "broker/policy/decide/decide.h"

namespace airlock::policy {
namespace {

Rule fsRule(const std::string& id, Effect effect, const std::string& pattern, OpenModes modes) {
  Rule rule;
  rule.id = id;
  rule.effect = effect;
  setOperation(rule, Operation::FS_OPEN);
  std::string error;
  auto parsed = PathPattern::parse(pattern, error);
  EXPECT_TRUE(parsed.has_value()) << pattern << ": " << error;
  if (parsed) rule.fs().path = *parsed;
  rule.fs().modes = modes;
  return rule;
}

OpenModes modes(uint8_t bits) { return OpenModes{bits}; }

TEST(FsRuleIndex, CandidatesAreTheRulesRootedAtAnAncestorOfThePathInRuleOrder) {
  std::vector<Rule> rules = {
      fsRule("a", Effect::ALLOW, "/srv/images/**", modes(1)),
      fsRule("b", Effect::ALLOW, "/srv/**", modes(1)),
      fsRule("c", Effect::ALLOW, "/etc/app.conf", modes(1)),
      fsRule("d", Effect::DENY, "/srv/images/private/**", modes(31)),
      fsRule("e", Effect::ALLOW, "/*.png", modes(1)),
  };
  auto index = FsRuleIndex::build(rules);
  std::vector<uint32_t> out;
  index->candidates("/srv/images/private/x.png", out);
  EXPECT_EQ(out, (std::vector<uint32_t>{0, 1, 3, 4}));
  index->candidates("/etc/app.conf", out);
  EXPECT_EQ(out, (std::vector<uint32_t>{2, 4}));
  index->candidates("/home/user/x", out);
  EXPECT_EQ(out, (std::vector<uint32_t>{4}));
  index->candidates("/srv/images", out);
  EXPECT_EQ(out, (std::vector<uint32_t>{0, 1, 4})) << "rules rooted at / are candidates for every path";
}

// The index must never change a decision: random policies and paths, decided with and without it.
TEST(FsRuleIndex, DecisionsWithTheIndexEqualAFullScanOnRandomPolicies) {
  std::mt19937 random(20261126);
  const std::vector<std::string> parts = {"srv", "data", "images", "a", "b", "x.png", "*", "**",
                                          "*.png", "private"};
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
  for (int round = 0; round < 200; ++round) {
    UnitPolicy unit;
    unit.name = "u";
    int ruleCount = 1 + static_cast<int>(pick(30));
    for (int r = 0; r < ruleCount; ++r) {
      std::string pattern;
      size_t depth = 1 + pick(4);
      for (size_t d = 0; d < depth; ++d) pattern += "/" + parts[pick(parts.size())];
      std::string error;
      if (!PathPattern::parse(pattern, error)) continue;
      unit.rules.push_back(fsRule("r" + std::to_string(r), pick(3) == 0 ? Effect::DENY : Effect::ALLOW,
                                  pattern, modes(static_cast<uint8_t>(1 + pick(31)))));
    }
    UnitPolicy indexed = unit;
    indexRules(indexed);
    for (int q = 0; q < 50; ++q) {
      std::string path;
      size_t depth = 1 + pick(5);
      for (size_t d = 0; d < depth; ++d) {
        std::string part = parts[pick(parts.size())];
        if (part.find('*') != std::string::npos) part = "f" + std::to_string(pick(3));
        path += "/" + part;
      }
      OpenModes asked = modes(static_cast<uint8_t>(1 + pick(31)));
      auto scanned = decideFsOpen(unit, path, asked);
      auto fast = decideFsOpen(indexed, path, asked);
      ASSERT_EQ(scanned.verdict, fast.verdict) << path;
      ASSERT_EQ(scanned.ruleId, fast.ruleId) << path;
      ASSERT_EQ(scanned.reason, fast.reason) << path;
    }
  }
}

}  // namespace
}  // namespace airlock::policy

namespace airlock::policy {
namespace {

TEST(IndexRules, AllowedOperationsAreThoseSomeAllowRuleNames) {
  UnitPolicy unit;
  unit.rules.push_back(fsRule("a", Effect::ALLOW, "/srv/**", OpenModes{1}));
  Rule denySecret;
  denySecret.id = "d";
  denySecret.effect = Effect::DENY;
  setOperation(denySecret, Operation::SECRETS_GET);
  unit.rules.push_back(denySecret);
  indexRules(unit);
  EXPECT_TRUE(unit.allowsAny(Operation::FS_OPEN));
  EXPECT_FALSE(unit.allowsAny(Operation::SECRETS_GET)) << "a deny grants no capability";
  EXPECT_FALSE(unit.allowsAny(Operation::CALL));
}

}  // namespace
}  // namespace airlock::policy

// invoke rules and call rules' caller_unit: how they load (and fail to, at file:line:col), how
// they decide, and what explain and lint say of them.

#include <gtest/gtest.h>

#include "broker/policy/decide/decide.h"
#include "broker/policy/load/policy_loader.h"
#include "broker/policy/review/explain.h"
#include "tests/unit/policy/temp_policy_dir.h"

namespace airlock::policy {
namespace {

using testing::TempPolicyDir;

const std::string HEAD = "[unit]\nname = \"front\"\nworker = \"w\"\n";

class InvokeRulesTest : public ::testing::Test {
 protected:
  void SetUp() override { options_.workerCheck = LoadOptions::WorkerCheck::SKIP; }

  LoadResult load(const std::string& text) {
    return loadPolicyFile(dir_.write("policies/front.toml", text), options_);
  }
  // Errors and warnings as "line:col: message".
  std::vector<std::string> shown(const std::vector<Diagnostic>& list) {
    std::vector<std::string> out;
    for (auto& d : list) {
      out.push_back(std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + ": " +
                    d.message);
    }
    return out;
  }
  const UnitPolicy& loaded(const std::string& text) {
    result_ = load(text);
    EXPECT_TRUE(result_.ok()) << shown(result_.errors)[0];
    return result_.units.at(0);
  }

  TempPolicyDir dir_;
  LoadOptions options_;
  LoadResult result_;
};

TEST_F(InvokeRulesTest, AnInvokeRuleLoadsItsUnitsAndMethodsAndGrantsTheCapability) {
  const UnitPolicy& unit = loaded(HEAD + R"(
[[rule]]
id = "to-back"
allow = "invoke"
unit = ["back", "store-2"]
method = ["get", "*"]
)");
  ASSERT_EQ(unit.rules.size(), 1u);
  EXPECT_EQ(unit.rules[0].operation, Operation::INVOKE);
  EXPECT_EQ(unit.rules[0].invoke().invokeUnits, (std::vector<std::string>{"back", "store-2"}));
  EXPECT_EQ(unit.rules[0].invoke().methods, (std::vector<std::string>{"get", "*"}));
  EXPECT_TRUE(unit.allowsAny(Operation::INVOKE));
  EXPECT_FALSE(unit.allowsAny(Operation::FS_OPEN));
}

TEST_F(InvokeRulesTest, BadInvokeRulesAreErrorsAtTheirElement) {
  auto r = load(HEAD + R"(
[[rule]]
id = "a"
allow = "invoke"
unit = ["Back", "back", "back"]
method = ["get"]

[[rule]]
id = "b"
allow = "invoke"
method = ["get"]

[[rule]]
id = "c"
deny = "invoke"
unit = ["back"]
method = ["*"]
caller = ["web"]
)");
  EXPECT_EQ(shown(r.errors),
            (std::vector<std::string>{
                "8:9: rule \"a\": unit \"Back\": unit name may contain only a-z, 0-9 and '-'",
                "8:25: rule \"a\": unit \"back\" is listed twice",
                "11:1: rule \"b\": missing required key \"unit\"",
                "21:1: rule \"c\": key \"caller\" applies only to call, grant rules, not invoke",
            }));
}

TEST_F(InvokeRulesTest, ACallRuleMayNameUnitsOnlyClientsOrBothButNotNobody) {
  const UnitPolicy& unit = loaded(HEAD + R"(
[[rule]]
id = "units"
allow = "call"
caller_unit = ["back"]
method = ["*"]

[[rule]]
id = "both"
allow = "call"
caller = ["web"]
caller_uid = [1000]
caller_unit = ["store"]
method = ["get"]
)");
  EXPECT_TRUE(unit.rules[0].call().callerNames.empty());
  EXPECT_EQ(unit.rules[0].call().callerUnits, (std::vector<std::string>{"back"}));
  EXPECT_EQ(unit.rules[1].call().callerNames, (std::vector<std::string>{"web"}));
  EXPECT_EQ(unit.rules[1].call().callerUnits, (std::vector<std::string>{"store"}));

  auto r = load(HEAD + R"(
[[rule]]
id = "uid-for-a-unit"
allow = "call"
caller_unit = ["back"]
caller_uid = [0]
method = ["*"]

[[rule]]
id = "nobody"
allow = "call"
method = ["*"]

[[rule]]
id = "bad-unit"
allow = "call"
caller_unit = ["back/../x"]
method = ["*"]
)");
  std::vector<std::string> errors = shown(r.errors);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].rfind("5:1: rule \"uid-for-a-unit\": missing required key \"caller\": call "
                            "rules name client identities",
                            0),
            0u)
      << errors[0];
  EXPECT_EQ(errors[1], "12:1: rule \"nobody\": missing required key \"caller\" (or "
                       "\"caller_unit\" for units that invoke)");
  EXPECT_EQ(errors[2], "20:16: rule \"bad-unit\": caller_unit \"back/../x\": unit name may "
                       "contain only a-z, 0-9 and '-'");
}

class InvokeDecisionTest : public InvokeRulesTest {
 protected:
  void SetUp() override {
    InvokeRulesTest::SetUp();
    unit_ = loaded(HEAD + R"(
[[rule]]
id = "back-any"
allow = "invoke"
unit = ["back"]
method = ["*"]

[[rule]]
id = "back-no-wipe"
deny = "invoke"
unit = ["back"]
method = ["wipe"]

[[rule]]
id = "store-get"
allow = "invoke"
unit = ["store"]
method = ["get"]

[[rule]]
id = "store-get-denied"
deny = "invoke"
unit = ["store"]
method = ["get"]

[[rule]]
id = "web-client"
allow = "call"
caller = ["back"]
method = ["*"]

[[rule]]
id = "unit-back"
allow = "call"
caller_unit = ["back"]
method = ["ping"]
)");
  }
  UnitPolicy unit_;
};

TEST_F(InvokeDecisionTest, AListedMethodBeatsStarAndDenyWinsATie) {
  Decision any = decideInvoke(unit_, "back", "read");
  EXPECT_TRUE(any.allowed());
  EXPECT_EQ(any.ruleId, "back-any");
  EXPECT_EQ(any.reason, "allowed by rule \"back-any\" (" + unit_.file +
                            ":5): unit back listed, method * matches read");
  Decision wipe = decideInvoke(unit_, "back", "wipe");
  EXPECT_FALSE(wipe.allowed());
  EXPECT_EQ(wipe.ruleId, "back-no-wipe");
  Decision tie = decideInvoke(unit_, "store", "get");
  EXPECT_FALSE(tie.allowed());
  EXPECT_EQ(tie.ruleId, "store-get-denied");
  EXPECT_NE(tie.reason.find("deny wins the tie with allow rule \"store-get\""), std::string::npos);
}

TEST_F(InvokeDecisionTest, AnUnlistedUnitOrMethodIsDeniedByDefault) {
  Decision d = decideInvoke(unit_, "store", "put");
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.ruleId, DEFAULT_DENY_RULE_ID);
  EXPECT_EQ(d.reason, "no rule allows unit front to invoke store.put");
  EXPECT_EQ(decideInvoke(unit_, "other", "get").ruleId, DEFAULT_DENY_RULE_ID);
}

TEST_F(InvokeDecisionTest, MalformedNamesAreRefusedBeforeAnyRule) {
  for (auto [callee, method] : {std::pair{"Back", "get"}, std::pair{"", "get"},
                                std::pair{"back", ""}, std::pair{"back", "*"},
                                std::pair{"back", "a b"}}) {
    Decision d = decideInvoke(unit_, callee, method);
    EXPECT_FALSE(d.allowed()) << callee << "." << method;
    EXPECT_EQ(d.ruleId, DEFAULT_DENY_RULE_ID);
    EXPECT_EQ(d.reason.rfind("refused invoke of ", 0), 0u) << d.reason;
    EXPECT_TRUE(matchingInvokeRules(unit_, callee, method).empty());
  }
}

TEST_F(InvokeDecisionTest, AUnitMatchesOnlyCallerUnitAndAClientOnlyCaller) {
  // "back" is both a client name (rule web-client) and a unit name (rule unit-back).
  Decision asUnit = decideCall(unit_, Caller::unit("back"), "ping");
  EXPECT_TRUE(asUnit.allowed());
  EXPECT_EQ(asUnit.ruleId, "unit-back");
  EXPECT_EQ(asUnit.reason, "allowed by rule \"unit-back\" (" + unit_.file +
                               ":35): caller unit back listed, method ping listed");
  Decision unitElsewhere = decideCall(unit_, Caller::unit("back"), "read");
  EXPECT_FALSE(unitElsewhere.allowed()) << "web-client's caller list is for clients only";
  EXPECT_EQ(unitElsewhere.reason, "no rule allows call of front.read by unit back");

  Caller client{"back", 1000};
  Decision asClient = decideCall(unit_, client, "ping");
  EXPECT_TRUE(asClient.allowed());
  EXPECT_EQ(asClient.ruleId, "web-client") << "caller_unit never matches a client";
  auto matches = matchingCallRules(unit_, client, "ping");
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].rule->id, "web-client");
}

TEST_F(InvokeDecisionTest, ExplainDecidesBothSidesWithTheBrokersFunctions) {
  std::vector<UnitPolicy> units{unit_};
  Explanation invoke = explain(units, {"front", "invoke", {{"unit", "back"}, {"method", "wipe"}}});
  EXPECT_EQ(invoke.error, "");
  EXPECT_EQ(invoke.request, "invoke back.wipe by unit front");
  EXPECT_EQ(invoke.decision.ruleId, "back-no-wipe");
  ASSERT_EQ(invoke.lost.size(), 1u);
  EXPECT_EQ(invoke.lost[0].rule->id, "back-any");

  Explanation call =
      explain(units, {"front", "call", {{"caller_unit", "back"}, {"method", "ping"}}});
  EXPECT_EQ(call.error, "");
  EXPECT_EQ(call.request, "call front.ping by unit back");
  EXPECT_EQ(call.decision.ruleId, "unit-back");

  EXPECT_EQ(explain(units, {"front", "call", {{"caller_unit", "back"}, {"caller", "x"},
                                              {"uid", "0"}, {"method", "ping"}}})
                .error,
            "call takes --arg caller=NAME or --arg caller_unit=UNIT, not both");
  EXPECT_EQ(explain(units, {"front", "call", {{"method", "ping"}}}).error,
            "call needs --arg caller=NAME (a client) or --arg caller_unit=UNIT");
  EXPECT_EQ(explain(units, {"front", "invoke", {{"unit", "back"}}}).error,
            "invoke needs --arg method=...");
}

TEST_F(InvokeRulesTest, LintWarnsOfAnInvokeOrCallerUnitNamingNoDefinedUnit) {
  dir_.write("set/front.toml", HEAD + R"(
[[rule]]
id = "host"
allow = "call"
caller = ["web"]
method = ["*"]

[[rule]]
id = "to-back"
allow = "invoke"
unit = ["back", "bakc"]
method = ["*"]
)");
  dir_.write("set/back.toml", R"([unit]
name = "back"
worker = "w"

[[rule]]
id = "from-front"
allow = "call"
caller_unit = ["front", "frnot"]
method = ["*"]
)");
  LoadResult r = loadPolicyDir(dir_.path() + "/set", options_);
  ASSERT_TRUE(r.ok());
  std::vector<std::string> warnings = shown(r.warnings);
  EXPECT_EQ(warnings, (std::vector<std::string>{
                          "5:1: rule \"from-front\": caller_unit \"frnot\" is not a unit any "
                          "policy file defines: no such unit can call",
                          "11:1: rule \"to-back\": unit \"bakc\" is not a unit any policy file "
                          "defines: an invoke of it is always refused",
                      }));
}

}  // namespace
}  // namespace airlock::policy

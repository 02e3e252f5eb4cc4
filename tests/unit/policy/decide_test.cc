#include "broker/policy/decide/decide.h"

#include <gtest/gtest.h>

namespace airlock::policy {
namespace {

OpenModes modesOf(std::initializer_list<OpenMode> list) {
  OpenModes out;
  for (OpenMode m : list) out.add(m);
  return out;
}
const OpenModes READ = modesOf({OpenMode::READ});
const OpenModes WRITE = modesOf({OpenMode::WRITE});
const OpenModes READ_WRITE = modesOf({OpenMode::READ, OpenMode::WRITE});
const Caller ROOT_WEB{"web", 0};

class DecideTest : public ::testing::Test {
 protected:
  void fs(std::string id, Effect effect, std::string_view path, OpenModes modes) {
    Rule rule;
    rule.id = std::move(id);
    rule.effect = effect;
    setOperation(rule, Operation::FS_OPEN);
    rule.where = SourceLocation{"unit.toml", nextLine_++, 1};
    std::string error;
    rule.fs().path = PathPattern::parse(path, error).value();
    rule.fs().modes = modes;
    unit_.rules.push_back(std::move(rule));
  }
  void call(std::string id, Effect effect, std::vector<std::string> names,
            std::vector<uid_t> uids, std::vector<std::string> methods) {
    Rule rule;
    rule.id = std::move(id);
    rule.effect = effect;
    setOperation(rule, Operation::CALL);
    rule.where = SourceLocation{"unit.toml", nextLine_++, 1};
    rule.call().callerNames = std::move(names);
    rule.call().callerUids = std::move(uids);
    rule.call().methods = std::move(methods);
    unit_.rules.push_back(std::move(rule));
  }

  void secret(std::string id, Effect effect, std::vector<std::string> names) {
    Rule rule;
    rule.id = std::move(id);
    rule.effect = effect;
    setOperation(rule, Operation::SECRETS_GET);
    rule.where = SourceLocation{"unit.toml", nextLine_++, 1};
    rule.secrets().secretNames = std::move(names);
    unit_.rules.push_back(std::move(rule));
  }

  void SetUp() override { unit_.name = "thumbnailer"; }

  UnitPolicy unit_;
  int nextLine_ = 10;
};

TEST_F(DecideTest, AnEmptyPolicyDeniesByDefault) {
  Decision d = decideFsOpen(unit_, "/etc/passwd", READ);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.ruleId, DEFAULT_DENY_RULE_ID);
  EXPECT_EQ(d.rule, nullptr);
  EXPECT_EQ(d.reason, "no rule allows fs.open of /etc/passwd with modes read");
  EXPECT_FALSE(decideCall(unit_, ROOT_WEB, "thumbnail").allowed());
}

TEST_F(DecideTest, AMatchingAllowRuleAllowsAndNamesItselfAndItsLine) {
  fs("images-read-only", Effect::ALLOW, "/srv/images/**", READ);
  Decision d = decideFsOpen(unit_, "/srv/images/a/b.png", READ);
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.ruleId, "images-read-only");
  EXPECT_EQ(d.rule, &unit_.rules[0]);
  EXPECT_EQ(d.reason,
            "allowed by rule \"images-read-only\" (unit.toml:10): path matches /srv/images/**, "
            "modes read ⊆ read");
}

TEST_F(DecideTest, AllowNeedsEveryRequestedModeGranted) {
  fs("images-read-only", Effect::ALLOW, "/srv/images/**", READ);
  Decision d = decideFsOpen(unit_, "/srv/images/a.png", READ_WRITE);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.ruleId, DEFAULT_DENY_RULE_ID);
  EXPECT_EQ(d.reason, "no rule allows fs.open of /srv/images/a.png with modes read,write");
}

TEST_F(DecideTest, RulesOfAnotherOperationAreIgnored) {
  call("root-any", Effect::ALLOW, {"web"}, {}, {"*"});
  EXPECT_EQ(decideFsOpen(unit_, "/srv/x", READ).ruleId, DEFAULT_DENY_RULE_ID);
  fs("all", Effect::ALLOW, "/**", READ);
  EXPECT_EQ(decideCall(unit_, ROOT_WEB, "x").ruleId, "root-any");
}

TEST_F(DecideTest, AMoreSpecificDenyOverridesABroadAllow) {
  fs("images", Effect::ALLOW, "/srv/images/**", READ_WRITE);
  fs("no-private", Effect::DENY, "/srv/images/private/**", WRITE);
  EXPECT_TRUE(decideFsOpen(unit_, "/srv/images/a.png", READ_WRITE).allowed());
  Decision d = decideFsOpen(unit_, "/srv/images/private/a.png", READ_WRITE);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.ruleId, "no-private");
  EXPECT_EQ(d.reason,
            "denied by rule \"no-private\" (unit.toml:11): path matches /srv/images/private/**, "
            "modes read,write ∩ write ≠ ∅");
  // A deny only applies to requests asking for one of its modes.
  EXPECT_TRUE(decideFsOpen(unit_, "/srv/images/private/a.png", READ).allowed());
}

TEST_F(DecideTest, AMoreSpecificAllowOverridesABroadDeny) {
  fs("no-srv", Effect::DENY, "/srv/**", READ);
  fs("one-file", Effect::ALLOW, "/srv/images/a.png", READ);
  EXPECT_EQ(decideFsOpen(unit_, "/srv/images/a.png", READ).ruleId, "one-file");
  EXPECT_EQ(decideFsOpen(unit_, "/srv/images/b.png", READ).ruleId, "no-srv");
}

TEST_F(DecideTest, DenyWinsATieAtEqualSpecificityWhateverTheOrder) {
  fs("allow-png", Effect::ALLOW, "/srv/images/*.png", READ);
  fs("deny-all", Effect::DENY, "/srv/images/**", READ);
  Decision d = decideFsOpen(unit_, "/srv/images/a.png", READ);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.ruleId, "deny-all");
  EXPECT_NE(d.reason.find("deny wins the tie with allow rule \"allow-png\" (unit.toml:10)"),
            std::string::npos)
      << d.reason;

  unit_.rules.clear();
  fs("deny-all", Effect::DENY, "/srv/images/**", READ);
  fs("allow-png", Effect::ALLOW, "/srv/images/*.png", READ);
  EXPECT_EQ(decideFsOpen(unit_, "/srv/images/a.png", READ).ruleId, "deny-all");
}

TEST_F(DecideTest, AnInvalidRequestPathIsDeniedByDefaultWithTheValidationReason) {
  fs("all", Effect::ALLOW, "/**", READ);
  Decision d = decideFsOpen(unit_, "/srv/images/../../etc/passwd", READ);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.ruleId, DEFAULT_DENY_RULE_ID);
  EXPECT_EQ(d.reason,
            "refused fs.open of \"/srv/images/../../etc/passwd\": path has a '.' or '..' segment");
  EXPECT_FALSE(decideFsOpen(unit_, "relative", READ).allowed());
  EXPECT_FALSE(decideFsOpen(unit_, "/srv/", READ).allowed());
}

TEST_F(DecideTest, ReasonsEscapeControlCharactersAndStayOneLine) {
  Decision d = decideFsOpen(unit_, std::string_view("/a\nb\0c", 6), READ);
  EXPECT_EQ(d.reason.find('\n'), std::string::npos);
  EXPECT_EQ(d.reason.find('\0'), std::string::npos);
  EXPECT_NE(d.reason.find("\\x0a"), std::string::npos);
  Decision longPath = decideFsOpen(unit_, "/" + std::string(100000, 'a'), READ);
  EXPECT_LT(longPath.reason.size(), 1000u);
}

TEST_F(DecideTest, ARequestWithNoModesIsDenied) {
  fs("all", Effect::ALLOW, "/**", READ);
  EXPECT_FALSE(decideFsOpen(unit_, "/srv/x", OpenModes{}).allowed());
  EXPECT_FALSE(decideFsOpen(unit_, "/srv/x", OpenModes{0x80}).allowed());
}

TEST_F(DecideTest, ACallNeedsAListedCallerAndAListedMethod) {
  call("web-may-thumbnail", Effect::ALLOW, {"web", "batch"}, {}, {"thumbnail"});
  Decision d = decideCall(unit_, Caller{"batch", 1000}, "thumbnail");
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.reason,
            "allowed by rule \"web-may-thumbnail\" (unit.toml:10): caller client batch (uid "
            "1000) listed, method thumbnail listed");
  EXPECT_FALSE(decideCall(unit_, Caller{"webx", 1000}, "thumbnail").allowed());
  Decision other = decideCall(unit_, ROOT_WEB, "resize");
  EXPECT_FALSE(other.allowed());
  EXPECT_EQ(other.reason, "no rule allows call of thumbnailer.resize by client web (uid 0)");
}

TEST_F(DecideTest, CallerUidNarrowsANamedCallerToThoseUids) {
  call("web-as-1000", Effect::ALLOW, {"web"}, {1000, 1001}, {"*"});
  EXPECT_TRUE(decideCall(unit_, Caller{"web", 1001}, "thumbnail").allowed());
  Decision d = decideCall(unit_, Caller{"web", 0}, "thumbnail");
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.ruleId, DEFAULT_DENY_RULE_ID);
  EXPECT_FALSE(decideCall(unit_, Caller{"batch", 1000}, "thumbnail").allowed())
      << "the uid alone admits no one";
}

TEST_F(DecideTest, ASpecificMethodBeatsStarAndDenyWinsTies) {
  call("root-any", Effect::ALLOW, {"web"}, {}, {"*"});
  call("no-delete", Effect::DENY, {"web"}, {}, {"delete"});
  EXPECT_TRUE(decideCall(unit_, ROOT_WEB, "thumbnail").allowed());
  EXPECT_EQ(decideCall(unit_, ROOT_WEB, "delete").ruleId, "no-delete");

  call("deny-star", Effect::DENY, {"web"}, {}, {"*"});
  EXPECT_EQ(decideCall(unit_, ROOT_WEB, "thumbnail").ruleId, "deny-star");

  call("allow-delete", Effect::ALLOW, {"web"}, {}, {"delete"});
  EXPECT_EQ(decideCall(unit_, ROOT_WEB, "delete").ruleId, "no-delete");
}

TEST_F(DecideTest, AMalformedMethodNameIsDeniedEvenUnderAStarRule) {
  call("root-any", Effect::ALLOW, {"web"}, {}, {"*"});
  Decision d = decideCall(unit_, ROOT_WEB, "a\nb");
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.ruleId, DEFAULT_DENY_RULE_ID);
  EXPECT_EQ(d.reason.find('\n'), std::string::npos);
  EXPECT_FALSE(decideCall(unit_, ROOT_WEB, "").allowed());
  EXPECT_FALSE(decideCall(unit_, ROOT_WEB, std::string(65, 'a')).allowed());
}

TEST_F(DecideTest, TenThousandRulesStillDecideCorrectly) {
  for (int i = 0; i < 10000; ++i) {
    fs("r" + std::to_string(i), Effect::ALLOW, "/srv/d" + std::to_string(i) + "/**", READ);
  }
  EXPECT_EQ(decideFsOpen(unit_, "/srv/d9999/x", READ).ruleId, "r9999");
  EXPECT_EQ(decideFsOpen(unit_, "/srv/e/x", READ).ruleId, DEFAULT_DENY_RULE_ID);
}

TEST_F(DecideTest, ASecretIsAllowedOnlyByARuleListingItsExactName) {
  secret("db", Effect::ALLOW, {"db-password"});
  Decision d = decideSecretsGet(unit_, "db-password");
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.ruleId, "db");
  EXPECT_FALSE(decideSecretsGet(unit_, "db-password2").allowed());
  EXPECT_EQ(decideSecretsGet(unit_, "db").ruleId, DEFAULT_DENY_RULE_ID);
  fs("fs", Effect::ALLOW, "/srv/**", READ);
  EXPECT_FALSE(decideSecretsGet(unit_, "srv").allowed());
}

TEST_F(DecideTest, ADenyListingASecretWinsOverAnAllow) {
  secret("all", Effect::ALLOW, {"db-password", "api-token"});
  secret("no-db", Effect::DENY, {"db-password"});
  Decision d = decideSecretsGet(unit_, "db-password");
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.ruleId, "no-db");
  EXPECT_TRUE(decideSecretsGet(unit_, "api-token").allowed());
  EXPECT_EQ(matchingSecretsGetRules(unit_, "db-password").size(), 2u);
}

TEST_F(DecideTest, SecretNamesThatCouldLeaveTheStoreAreRefusedBeforeAnyRule) {
  secret("all", Effect::ALLOW, {"db-password"});
  for (std::string_view name : {"", ".", "..", "../db-password", "a/b", "/etc/passwd", ".hidden",
                                "with space"}) {
    Decision d = decideSecretsGet(unit_, name);
    EXPECT_FALSE(d.allowed()) << name;
    EXPECT_EQ(d.ruleId, DEFAULT_DENY_RULE_ID) << name;
    EXPECT_NE(d.reason.find("refused secrets.get"), std::string::npos) << d.reason;
  }
  EXPECT_FALSE(decideSecretsGet(unit_, std::string(MAX_SECRET_NAME_BYTES + 1, 'a')).allowed());
}

}  // namespace
}  // namespace airlock::policy

// `grant` rules and `granted_only` fs.open rules: loaded with errors at file:line:col, decided
// (who may grant what; what a granted_only rule reaches with and without the call's grants),
// explained, summarized by policy diff, and part of the revision only when used.

#include <gtest/gtest.h>

#include "broker/policy/decide/decide.h"
#include "broker/policy/decide/decide_grant.h"
#include "broker/policy/load/policy_loader.h"
#include "broker/policy/model/revision.h"
#include "broker/policy/review/explain.h"
#include "broker/policy/review/policy_diff.h"
#include "tests/unit/policy/one_file_policy.h"
#include "tests/unit/policy/temp_policy_dir.h"

namespace airlock::policy {
namespace {

const char HEAD[] = R"([unit]
name = "docs"
worker = "/bin/true"

)";

// The same unit, its workers ending with their call: what a descriptor grant needs.
const char HEAD_NEVER_REUSED[] = R"([unit]
name = "docs"
worker = "/bin/true"
worker_reuse = "never"

)";

const char RULES[] = R"([[rule]]
id = "web-grants-docs"
allow = "grant"
caller = ["web"]
caller_uid = [1000]
path = "/srv/docs/*"
mode = ["read", "write"]

[[rule]]
id = "no-grants-of-keys"
deny = "grant"
caller = ["web"]
path = "/srv/docs/*.key"
mode = ["read", "write"]

[[rule]]
id = "docs-as-granted"
allow = "fs.open"
path = "/srv/docs/**"
mode = ["read", "write"]
granted_only = true

[[rule]]
id = "public-always"
allow = "fs.open"
path = "/srv/docs/public/**"
mode = ["read"]
)";

OpenModes modesOf(std::initializer_list<OpenMode> list) {
  OpenModes modes;
  for (OpenMode m : list) modes.add(m);
  return modes;
}
const OpenModes READ = modesOf({OpenMode::READ});
const OpenModes READ_WRITE = modesOf({OpenMode::READ, OpenMode::WRITE});

class CallGrantsPolicyTest : public ::testing::Test {
 protected:
  LoadResult load(const std::string& rules) { return file_.load(rules); }
  const UnitPolicy& loaded() {
    result_ = load(RULES);
    EXPECT_TRUE(result_.ok()) << (result_.errors.empty() ? "" : result_.errors[0].describe());
    return result_.units.at(0);
  }
  std::vector<std::string> errors(const std::string& rules) { return file_.errors(rules); }

  testing::OneFilePolicy file_{"docs.toml", HEAD};
  LoadResult result_;
};

TEST_F(CallGrantsPolicyTest, GrantRulesAndGrantedOnlyLoad) {
  const UnitPolicy& unit = loaded();
  ASSERT_EQ(unit.rules.size(), 4u);
  EXPECT_EQ(unit.rules[0].operation, Operation::GRANT);
  EXPECT_EQ(unit.rules[0].grant().callerNames, std::vector<std::string>{"web"});
  EXPECT_EQ(unit.rules[0].grant().callerUids, std::vector<uid_t>{1000});
  EXPECT_EQ(unit.rules[0].grant().modes.bits, READ_WRITE.bits);
  EXPECT_TRUE(unit.rules[2].fs().grantedOnly);
  EXPECT_FALSE(unit.rules[3].fs().grantedOnly);
}

TEST_F(CallGrantsPolicyTest, MistakesAreErrorsAtTheirLocation) {
  EXPECT_EQ(errors("[[rule]]\nid = \"g\"\nallow = \"grant\"\npath = \"/srv/*\"\nmode = [\"read\"]\n"
                   "\n[[rule]]\nid = \"d\"\ndeny = \"fs.open\"\npath = \"/srv/**\"\n"
                   "mode = [\"read\"]\ngranted_only = true\n\n[[rule]]\nid = \"m\"\n"
                   "allow = \"grant\"\ncaller = [\"web\"]\npath = \"/srv/*\"\nmode = [\"run\"]\n"
                   "method = [\"x\"]\n\n[[rule]]\nid = \"s\"\nallow = \"fs.stat\"\n"
                   "path = \"/srv/**\"\ngranted_only = true\n"),
            (std::vector<std::string>{
                "D/docs.toml:5:1: rule \"g\": missing required key \"caller\": a grant rule names "
                "the clients that may grant (caller = [\"web\"])",
                "D/docs.toml:16:1: rule \"d\": granted_only applies to allow rules only: a deny "
                "rule refuses whatever the call was granted",
                "D/docs.toml:23:9: rule \"m\": unknown mode \"run\" (expected read, write, "
                "create, truncate, append)",
                "D/docs.toml:24:1: rule \"m\": key \"method\" applies only to call, invoke "
                "rules, not grant",
                "D/docs.toml:30:1: rule \"s\": key \"granted_only\" applies only to fs.open "
                "rules, not fs.stat",
            }));
}

TEST_F(CallGrantsPolicyTest, TheLintNamesGrantsThatReachNothingAndGrantedOnlyThatNarrowsNothing) {
  auto warnings = [this](const std::string& rules) {
    std::vector<std::string> out;
    // Only the grant lints: this unit has no call rule, which the lint says too.
    for (auto& w : load(rules).warnings) {
      if (w.message.find("grant") != std::string::npos) out.push_back(w.message);
    }
    return out;
  };
  EXPECT_TRUE(warnings(RULES).empty());
  std::string grantOnly = std::string(RULES).substr(0, std::string(RULES).find("[[rule]]\nid = \"docs-as"));
  EXPECT_EQ(warnings(grantOnly),
            std::vector<std::string>{"rule \"web-grants-docs\" lets callers grant paths, but no "
                                     "fs.open rule of the unit is granted_only: a grant reaches "
                                     "nothing"});
  std::string narrowsNothing = std::string(RULES) +
      "\n[[rule]]\nid = \"docs-always\"\nallow = \"fs.open\"\npath = \"/srv/docs/**\"\n"
      "mode = [\"read\", \"write\"]\n";
  auto narrowed = warnings(narrowsNothing);
  ASSERT_EQ(narrowed.size(), 1u);
  EXPECT_NE(narrowed[0].find("\"docs-as-granted\" is granted_only but narrows nothing"),
            std::string::npos) << narrowed[0];
}

TEST_F(CallGrantsPolicyTest, WhoMayGrantWhatIsDecidedByTheGrantRules) {
  const UnitPolicy& unit = loaded();
  Caller web{"web", 1000};
  Decision allowed = decideGrant(unit, web, "/srv/docs/alice.xml", READ);
  EXPECT_TRUE(allowed.allowed()) << allowed.reason;
  EXPECT_EQ(allowed.ruleId, "web-grants-docs");
  // A more specific deny wins; another uid, another client, a unit, a deeper path, a mode the
  // rule lacks: default-deny or the deny rule.
  EXPECT_EQ(decideGrant(unit, web, "/srv/docs/server.key", READ).ruleId, "no-grants-of-keys");
  EXPECT_FALSE(decideGrant(unit, web, "/srv/docs/server.key", READ).allowed());
  EXPECT_FALSE(decideGrant(unit, Caller{"web", 1001}, "/srv/docs/a.xml", READ).allowed());
  EXPECT_FALSE(decideGrant(unit, Caller{"cron", 1000}, "/srv/docs/a.xml", READ).allowed());
  EXPECT_FALSE(decideGrant(unit, Caller::unit("web"), "/srv/docs/a.xml", READ).allowed());
  EXPECT_FALSE(decideGrant(unit, web, "/srv/docs/sub/a.xml", READ).allowed());
  EXPECT_FALSE(decideGrant(unit, web, "/srv/docs/a.xml", modesOf({OpenMode::CREATE})).allowed());
  // Refused before any rule: a path that is not one, no modes.
  Decision dotdot = decideGrant(unit, web, "/srv/docs/../etc/passwd", READ);
  EXPECT_EQ(dotdot.ruleId, "default-deny");
  EXPECT_NE(dotdot.reason.find("refused grant"), std::string::npos) << dotdot.reason;
  EXPECT_FALSE(decideGrant(unit, web, "/srv/docs/a.xml", OpenModes{}).allowed());
}

TEST_F(CallGrantsPolicyTest, AGrantedOnlyRuleReachesOnlyWhatTheCallWasGrantedAndNamesTheGrant) {
  const UnitPolicy& unit = loaded();
  std::vector<CallGrant> grants{{"/srv/docs/bob.xml", READ_WRITE, &unit.rules[0]},
                                {"/srv/docs/alice.xml", READ, &unit.rules[0]}};
  Decision alice = decideFsOpen(unit, "/srv/docs/alice.xml", READ, grants);
  EXPECT_TRUE(alice.allowed()) << alice.reason;
  EXPECT_EQ(alice.ruleId, "web-grants-docs#1");
  EXPECT_EQ(alice.rule, &unit.rules[2]) << "the broker acts beneath the fs.open rule's root";
  EXPECT_NE(alice.reason.find("grant #1 of this call"), std::string::npos) << alice.reason;
  EXPECT_NE(alice.reason.find("docs-as-granted"), std::string::npos) << alice.reason;
  // Modes beyond the grant, a neighbour, no grants at all: nothing.
  EXPECT_FALSE(decideFsOpen(unit, "/srv/docs/alice.xml", READ_WRITE, grants).allowed());
  EXPECT_FALSE(decideFsOpen(unit, "/srv/docs/carol.xml", READ, grants).allowed());
  EXPECT_FALSE(decideFsOpen(unit, "/srv/docs/alice.xml", READ).allowed());
  // A grant covers its own path only, not what lies beneath it.
  std::vector<CallGrant> directory{{"/srv/docs", READ, &unit.rules[0]}};
  EXPECT_FALSE(decideFsOpen(unit, "/srv/docs/alice.xml", READ, directory).allowed());
  // A rule without granted_only holds for every call, granted or not.
  EXPECT_EQ(decideFsOpen(unit, "/srv/docs/public/faq", READ).ruleId, "public-always");
}

TEST_F(CallGrantsPolicyTest, ExplainAnswersWhoMayGrantAndWhatAGrantOpens) {
  std::vector<UnitPolicy> units{loaded()};
  Explanation grant = explain(units, ExplainRequest{"docs", "grant", {{"caller", "web"},
                                                                      {"uid", "1000"},
                                                                      {"path", "/srv/docs/a.xml"},
                                                                      {"mode", "read"}}});
  ASSERT_TRUE(grant.error.empty()) << grant.error;
  EXPECT_EQ(grant.decision.ruleId, "web-grants-docs");
  EXPECT_EQ(grant.request, "grant /srv/docs/a.xml (read) to a call of unit docs by client web "
                           "(uid 1000)");
  Explanation opened = explain(units, ExplainRequest{"docs", "fs.open",
                                                     {{"path", "/srv/docs/a.xml"},
                                                      {"mode", "read"},
                                                      {"grant", "/srv/docs/a.xml:read"}}});
  ASSERT_TRUE(opened.error.empty()) << opened.error;
  EXPECT_EQ(opened.decision.ruleId, "grant#0");
  Explanation neighbour = explain(units, ExplainRequest{"docs", "fs.open",
                                                        {{"path", "/srv/docs/b.xml"},
                                                         {"mode", "read"},
                                                         {"grant", "/srv/docs/a.xml:read"}}});
  EXPECT_FALSE(neighbour.decision.allowed());
  Explanation bad = explain(units, ExplainRequest{"docs", "fs.open", {{"path", "/srv/docs/a"},
                                                                      {"mode", "read"},
                                                                      {"grant", "/srv/a"}}});
  EXPECT_NE(bad.error.find("grant must be PATH:MODES"), std::string::npos) << bad.error;
}

TEST_F(CallGrantsPolicyTest, DiffAndRevisionKnowTheNewRules) {
  LoadResult before = load(RULES);
  std::string without = RULES;
  without.replace(without.find("granted_only = true\n"), 20, "");
  LoadResult after = load(without);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_NE(policyRevision(before.units), policyRevision(after.units))
      << "granted_only is part of the rule's meaning";
  PolicyDiff diff = diffPolicies(after, before);
  ASSERT_EQ(diff.units.size(), 1u);
  ASSERT_EQ(diff.units[0].rules.size(), 1u);
  EXPECT_NE(diff.units[0].rules[0].after.find("granted_only=true"), std::string::npos)
      << diff.units[0].rules[0].after;
  std::string widened = RULES;
  widened.replace(widened.find("caller_uid = [1000]"), 19, "caller_uid = [1000, 1001]");
  EXPECT_NE(policyRevision(load(widened).units), policyRevision(before.units));
}

// `descriptors` on a grant rule: who may hand which kinds of open file, loaded with errors at
// their place, decided (a rule without it admits path grants only), explained, diffed and part of
// the revision only when set.
TEST_F(CallGrantsPolicyTest, DescriptorGrantsNeedARuleListingTheirKind) {
  // Only a unit whose workers end with their call may be handed descriptors.
  EXPECT_EQ(errors("[[rule]]\nid = \"h\"\nallow = \"grant\"\ncaller = [\"web\"]\n"
                   "path = \"/srv/*\"\nmode = [\"read\"]\ndescriptors = [\"regular\"]\n"),
            std::vector<std::string>{
                "D/docs.toml:11:1: rule \"h\": descriptors needs [unit] worker_reuse = "
                "\"never\": a worker handed a host's file must end with its call, or it could "
                "keep the file open for the next caller"});
  testing::OneFilePolicy neverReused{"docs.toml", HEAD_NEVER_REUSED};
  std::string handing = std::string(RULES) +
      "\n[[rule]]\nid = \"web-hands-uploads\"\nallow = \"grant\"\ncaller = [\"web\"]\n"
      "path = \"/srv/uploads/*\"\nmode = [\"read\"]\ndescriptors = [\"regular\", \"directory\"]\n";
  LoadResult loadedWith = neverReused.load(handing);
  ASSERT_TRUE(loadedWith.ok()) << loadedWith.errors[0].describe();
  const UnitPolicy& unit = loadedWith.units.at(0);
  EXPECT_TRUE(unit.rules[4].grant().descriptors.has(DescriptorKind::DIRECTORY));
  Caller web{"web", 1000};
  auto regular = DescriptorKind::REGULAR;
  EXPECT_EQ(decideGrant(unit, web, "/srv/uploads/a.png", READ, regular).ruleId,
            "web-hands-uploads");
  // The path alone is granted by the same rule; /srv/docs/ takes paths only.
  EXPECT_TRUE(decideGrant(unit, web, "/srv/uploads/a.png", READ).allowed());
  Decision pathsOnly = decideGrant(unit, web, "/srv/docs/a.xml", READ, regular);
  EXPECT_FALSE(pathsOnly.allowed());
  EXPECT_NE(pathsOnly.reason.find("grant a regular descriptor as /srv/docs/a.xml"),
            std::string::npos) << pathsOnly.reason;
  // Before any rule: a descriptor never creates; a directory is read only.
  Decision creates = decideGrant(unit, web, "/srv/uploads/a.png",
                                 modesOf({OpenMode::READ, OpenMode::CREATE}), regular);
  EXPECT_NE(creates.reason.find("create cannot be granted"), std::string::npos) << creates.reason;
  EXPECT_FALSE(decideGrant(unit, web, "/srv/uploads/d", READ_WRITE, DescriptorKind::DIRECTORY)
                   .allowed());

  Explanation asked = explain(loadedWith.units, ExplainRequest{"docs", "grant",
                                                               {{"caller", "web"},
                                                                {"uid", "1000"},
                                                                {"path", "/srv/docs/a.xml"},
                                                                {"mode", "read"},
                                                                {"descriptor", "regular"}}});
  ASSERT_TRUE(asked.error.empty()) << asked.error;
  EXPECT_FALSE(asked.decision.allowed());
  EXPECT_NE(asked.request.find("as a regular descriptor"), std::string::npos) << asked.request;
  Explanation unknown = explain(loadedWith.units, ExplainRequest{"docs", "grant",
                                                                 {{"caller", "web"},
                                                                  {"uid", "1000"},
                                                                  {"path", "/srv/docs/a.xml"},
                                                                  {"mode", "read"},
                                                                  {"descriptor", "socket"}}});
  EXPECT_NE(unknown.error.find("expected regular or directory"), std::string::npos)
      << unknown.error;

  // Part of the rule's meaning: in the revision and the diff.
  std::string withoutKinds = handing;
  withoutKinds.replace(withoutKinds.find("descriptors = "), std::string::npos, "");
  LoadResult before = neverReused.load(withoutKinds);
  ASSERT_TRUE(before.ok());
  EXPECT_NE(policyRevision(before.units), policyRevision(loadedWith.units));
  PolicyDiff diff = diffPolicies(before, loadedWith);
  ASSERT_EQ(diff.units.size(), 1u);
  ASSERT_EQ(diff.units[0].rules.size(), 1u);
  EXPECT_NE(diff.units[0].rules[0].after.find("descriptors=regular,directory"), std::string::npos)
      << diff.units[0].rules[0].after;

  EXPECT_EQ(neverReused.errors("[[rule]]\nid = \"a\"\ndeny = \"grant\"\ncaller = [\"web\"]\n"
                   "path = \"/srv/*\"\nmode = [\"read\"]\ndescriptors = [\"regular\"]\n\n"
                   "[[rule]]\nid = \"b\"\nallow = \"grant\"\ncaller = [\"web\"]\n"
                   "path = \"/srv/*\"\nmode = [\"read\", \"write\"]\n"
                   "descriptors = [\"socket\", \"regular\", \"regular\", \"directory\"]\n"),
            (std::vector<std::string>{
                "D/docs.toml:12:1: rule \"a\": descriptors applies to allow rules only: a deny "
                "rule refuses the path however it is handed",
                "D/docs.toml:20:16: rule \"b\": unknown descriptor kind \"socket\" (expected "
                "regular, directory: sockets, FIFOs and devices are never handed to a worker)",
                "D/docs.toml:20:37: rule \"b\": descriptor kind \"regular\" is listed twice",
                "D/docs.toml:20:48: rule \"b\": a directory descriptor is handed for reading "
                "only, and this rule grants read,write: write a separate rule",
            }));
}

}  // namespace
}  // namespace airlock::policy

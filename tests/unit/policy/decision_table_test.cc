// The decision table: (policy, request) -> (decision, deciding rule, rules that lost), through
// explain() — the entry `airlock policy explain` uses, which calls the broker's decideFsOpen /
// decideCall — on a policy loaded from TOML the way airlockd loads it.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "broker/policy/load/policy_loader.h"
#include "broker/policy/review/explain.h"
#include "tests/unit/policy/temp_policy_dir.h"

namespace airlock::policy {
namespace {

constexpr char TABLE_POLICY[] = R"(
[unit]
name = "table"
worker = "table-worker"

[[rule]]
id = "srv-read"
allow = "fs.open"
path = "/srv/**"
mode = ["read"]

[[rule]]
id = "secret-deny"
deny = "fs.open"
path = "/srv/secret/**"
mode = ["read", "write"]

[[rule]]
id = "secret-public"
allow = "fs.open"
path = "/srv/secret/public.txt"
mode = ["read"]

[[rule]]
id = "out-rw"
allow = "fs.open"
path = "/data/*/out/**"
mode = ["read", "write", "create", "truncate"]

[[rule]]
id = "tie-allow"
allow = "fs.open"
path = "/tie/**"
mode = ["read"]

[[rule]]
id = "tie-deny"
deny = "fs.open"
path = "/tie/**"
mode = ["write"]

[[rule]]
id = "tie-deny-read"
deny = "fs.open"
path = "/tie/locked/*"
mode = ["read"]

[[rule]]
id = "tie-allow-locked"
allow = "fs.open"
path = "/tie/locked/*"
mode = ["read"]

[[rule]]
id = "logs-append"
allow = "fs.open"
path = "/var/log/app/*.log"
mode = ["write", "append"]

[[rule]]
id = "unicode"
allow = "fs.open"
path = "/srv/ünïcødé/**"
mode = ["read", "write"]

[[rule]]
id = "mid-glob"
allow = "fs.open"
path = "/m/**/thumbs/*.png"
mode = ["read"]

[[rule]]
id = "web-any"
allow = "call"
caller = ["web"]
method = ["*"]

[[rule]]
id = "web-no-admin"
deny = "call"
caller = ["web"]
method = ["admin"]

[[rule]]
id = "ops-admin"
allow = "call"
caller = ["ops"]
caller_uid = [0, 1000]
method = ["admin", "status"]

[[rule]]
id = "ops-no-status"
deny = "call"
caller = ["ops"]
method = ["status"]
)";

struct Case {
  std::string operation;
  std::map<std::string, std::string> args;
  Verdict verdict;
  std::string ruleId;
  std::vector<std::string> lost = {};
  std::string unit = "table";
};

std::string describe(const Case& c) {
  std::string out = c.unit + " " + c.operation;
  for (auto& [k, v] : c.args) out += " " + k + "=" + v;
  return out;
}

Case fs(std::string path, std::string mode, Verdict v, std::string rule,
        std::vector<std::string> lost = {}) {
  return Case{"fs.open", {{"path", std::move(path)}, {"mode", std::move(mode)}}, v,
              std::move(rule), std::move(lost)};
}
Case call(std::string caller, std::string uid, std::string method, Verdict v, std::string rule,
          std::vector<std::string> lost = {}) {
  return Case{"call", {{"caller", std::move(caller)}, {"uid", std::move(uid)},
                       {"method", std::move(method)}},
              v, std::move(rule), std::move(lost)};
}

constexpr Verdict A = Verdict::ALLOW;
constexpr Verdict D = Verdict::DENY;
const std::string DEF(DEFAULT_DENY_RULE_ID);

std::vector<Case> table() {
  std::string longest = "/srv/" + std::string(MAX_PATH_BYTES - 5, 'a');  // MAX_PATH_BYTES long
  std::string overlong = longest + "a";
  std::string withNul = std::string("/srv/a\0b", 8);
  std::string longMethod(MAX_METHOD_NAME_BYTES + 1, 'm');
  return {
      // Plain grants and the default.
      fs("/srv/a.txt", "read", A, "srv-read"),
      fs("/srv/a/b/c/d.txt", "read", A, "srv-read"),
      fs("/etc/passwd", "read", D, DEF),
      fs("/srv/a.txt", "write", D, DEF),
      fs("/srv/a.txt", "read,write", D, DEF),
      fs("/srv/a.txt", "append", D, DEF),
      // ** matches zero segments: the root of the grant itself.
      fs("/srv", "read", A, "srv-read"),
      fs("/srvx/a", "read", D, DEF),
      fs("/sr", "read", D, DEF),
      fs("/", "read", D, DEF),
      // Precedence: the more specific deny beats the broader allow; an exact path beats both.
      fs("/srv/secret/key.pem", "read", D, "secret-deny", {"srv-read"}),
      fs("/srv/secret/sub/key.pem", "read", D, "secret-deny", {"srv-read"}),
      fs("/srv/secret", "read", D, "secret-deny", {"srv-read"}),
      fs("/srv/secret/public.txt", "read", A, "secret-public", {"secret-deny", "srv-read"}),
      fs("/srv/secret/public.txt", "write", D, "secret-deny"),
      fs("/srv/secret/public.txt/x", "read", D, "secret-deny", {"srv-read"}),
      fs("/srv/secretive/a", "read", A, "srv-read"),
      // * within one segment.
      fs("/data/alice/out/r.csv", "write,create,truncate", A, "out-rw"),
      fs("/data/alice/out", "read", A, "out-rw"),
      fs("/data/alice/bob/out/r.csv", "write", D, DEF),
      fs("/data/out/r.csv", "write", D, DEF),
      fs("/data/alice/out/r.csv", "append", D, DEF),
      fs("/var/log/app/x.log", "append", A, "logs-append"),
      fs("/var/log/app/x.log", "write,append", A, "logs-append"),
      fs("/var/log/app/.log", "write", A, "logs-append"),
      fs("/var/log/app/x.log.1", "write", D, DEF),
      fs("/var/log/app/sub/x.log", "write", D, DEF),
      fs("/var/log/app/x.log", "read", D, DEF),
      // Ties: deny wins at equal specificity, and only for the modes it names.
      fs("/tie/a", "read", A, "tie-allow"),
      fs("/tie/a", "write", D, "tie-deny"),
      fs("/tie/a", "read,write", D, "tie-deny"),
      fs("/tie/locked/a", "read", D, "tie-deny-read", {"tie-allow-locked", "tie-allow"}),
      fs("/tie/locked/a/b", "read", A, "tie-allow"),
      // ** in the middle.
      fs("/m/thumbs/a.png", "read", A, "mid-glob"),
      fs("/m/x/y/thumbs/a.png", "read", A, "mid-glob"),
      fs("/m/x/thumbs/a.jpg", "read", D, DEF),
      fs("/m/x/thumbs/sub/a.png", "read", D, DEF),
      // Paths refused before matching: default-deny, nothing matched.
      fs("/srv/../etc/passwd", "read", D, DEF),
      fs("/srv/a/..", "read", D, DEF),
      fs("/srv/./a", "read", D, DEF),
      fs("/srv/.", "read", D, DEF),
      fs("srv/a", "read", D, DEF),
      fs("../srv/a", "read", D, DEF),
      fs("", "read", D, DEF),
      fs("/srv/", "read", D, DEF),
      fs("/srv//a", "read", D, DEF),
      fs("//srv/a", "read", D, DEF),
      fs(withNul, "read", D, DEF),
      fs(overlong, "read", D, DEF),
      fs(longest, "read", A, "srv-read"),
      fs("/srv/a", "", D, DEF),
      // Names with dots that are not . or .. are ordinary.
      fs("/srv/...", "read", A, "srv-read"),
      fs("/srv/.hidden", "read", A, "srv-read"),
      fs("/srv/a..b", "read", A, "srv-read"),
      // Unicode is matched byte for byte, with no normalisation.
      fs("/srv/ünïcødé/a", "write", A, "unicode"),
      fs("/srv/ünïcødé/a", "read", A, "unicode", {"srv-read"}),
      fs("/srv/u\xcc\x88n\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9/a", "write", D, DEF),  // NFD ü
      fs("/srv/\xff\xfe", "read", A, "srv-read"),
      // Calls: a named method beats "*"; deny wins ties; uids restrict.
      call("web", "33", "thumbnail", A, "web-any"),
      call("web", "33", "admin", D, "web-no-admin", {"web-any"}),
      call("web", "0", "Admin", A, "web-any"),
      call("nobody", "33", "thumbnail", D, DEF),
      call("ops", "1000", "admin", A, "ops-admin"),
      call("ops", "0", "admin", A, "ops-admin"),
      call("ops", "33", "admin", D, DEF),
      call("ops", "1000", "status", D, "ops-no-status", {"ops-admin"}),
      call("ops", "33", "status", D, "ops-no-status"),
      call("ops", "1000", "thumbnail", D, DEF),
      call("web", "33", "", D, DEF),
      call("web", "33", longMethod, D, DEF),
      call("web", "33", "9lives", D, DEF),
      call("web", "33", "a b", D, DEF),
      call("web", "33", "*", D, DEF),
      call("web", "33", "ünï", D, DEF),
      call("web", "33", "a.b-c_d", A, "web-any"),
      // Unknown operations and units are denied, as airlockd has no row or unit for them.
      Case{"net.connect", {{"host", "example.com"}, {"port", "443"}}, D, DEF},
      Case{"dns.lookup", {}, D, DEF},
      Case{"FS.OPEN", {{"path", "/srv/a"}, {"mode", "read"}}, D, DEF},
      Case{"", {}, D, DEF},
      Case{"fs.open", {{"path", "/srv/a"}, {"mode", "read"}}, D, DEF, {}, "no-such-unit"},
      Case{"call", {{"caller", "web"}, {"uid", "1"}, {"method", "x"}}, D, DEF, {}, "Table"},
  };
}

class DecisionTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("table.toml", TABLE_POLICY);
    LoadOptions options;
    options.workerCheck = LoadOptions::WorkerCheck::SKIP;
    loaded_ = loadPolicyDir(dir_.path(), options);
    ASSERT_TRUE(loaded_.ok()) << loaded_.errors[0].describe();
  }

  testing::TempPolicyDir dir_;
  LoadResult loaded_;
};

TEST_F(DecisionTableTest, EveryRequestGetsTheDecisionRuleAndLosersTheTableSays) {
  auto cases = table();
  ASSERT_GE(cases.size(), 60u);
  for (const Case& c : cases) {
    Explanation e = explain(loaded_.units, ExplainRequest{c.unit, c.operation, c.args});
    ASSERT_EQ(e.error, "") << describe(c);
    EXPECT_EQ(e.decision.verdict, c.verdict) << describe(c) << ": " << e.decision.reason;
    EXPECT_EQ(e.decision.ruleId, c.ruleId) << describe(c) << ": " << e.decision.reason;
    std::vector<std::string> lost;
    for (auto& m : e.lost) lost.push_back(m.rule->id);
    EXPECT_EQ(lost, c.lost) << describe(c);
    EXPECT_FALSE(e.decision.reason.empty()) << describe(c);
  }
}

TEST_F(DecisionTableTest, TheDecidingRuleNamesItsFileAndLine) {
  Explanation e = explain(loaded_.units, ExplainRequest{"table", "fs.open",
                                                        {{"path", "/srv/secret/x"}, {"mode", "read"}}});
  ASSERT_NE(e.decision.rule, nullptr);
  EXPECT_EQ(e.decision.rule->where.file, dir_.path() + "/table.toml");
  EXPECT_EQ(e.decision.rule->where.line, 12);  // its [[rule]] header
  EXPECT_NE(e.decision.reason.find("table.toml:12"), std::string::npos) << e.decision.reason;
}

TEST_F(DecisionTableTest, ExplainGivesTheSameDecisionAsTheBrokersDecideFunctions) {
  const UnitPolicy& unit = loaded_.units.at(0);
  for (const Case& c : table()) {
    if (c.unit != "table" || c.operation != "fs.open" || c.args.at("mode") != "read") continue;
    Decision direct = decideFsOpen(unit, c.args.at("path"), OpenModes{1});
    Explanation e = explain(loaded_.units, ExplainRequest{c.unit, c.operation, c.args});
    EXPECT_EQ(e.decision.ruleId, direct.ruleId) << describe(c);
    EXPECT_EQ(e.decision.reason, direct.reason) << describe(c);
    EXPECT_EQ(e.decision.rule, direct.rule) << describe(c);
  }
}

TEST_F(DecisionTableTest, MalformedRequestsAreErrorsNotDecisions) {
  std::vector<ExplainRequest> bad = {
      {"table", "fs.open", {{"path", "/srv/a"}}},
      {"table", "fs.open", {{"mode", "read"}}},
      {"table", "fs.open", {{"path", "/srv/a"}, {"mode", "read,exec"}}},
      {"table", "fs.open", {{"path", "/srv/a"}, {"mode", "read"}, {"host", "x"}}},
      {"table", "call", {{"caller", "web"}, {"method", "x"}}},
      {"table", "call", {{"caller", "web"}, {"uid", "-1"}, {"method", "x"}}},
      {"table", "call", {{"caller", "web"}, {"uid", "12x"}, {"method", "x"}}},
      {"table", "call", {{"caller", "web"}, {"uid", ""}, {"method", "x"}}},
  };
  for (auto& request : bad) {
    EXPECT_NE(explain(loaded_.units, request).error, "") << request.operation;
  }
}

}  // namespace
}  // namespace airlock::policy

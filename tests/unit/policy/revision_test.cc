#include "broker/policy/model/revision.h"

#include <gtest/gtest.h>

#include "broker/policy/load/policy_loader.h"
#include "tests/unit/policy/temp_policy_dir.h"

namespace airlock::policy {
namespace {

constexpr char POLICY[] = R"(
[unit]
name = "probe"
worker = "probe-worker"

[[rule]]
id = "data-read"
allow = "fs.open"
path = "/srv/data/**"
mode = ["read"]

[[rule]]
id = "web-calls"
allow = "call"
caller = ["web"]
method = ["*"]
)";

std::string revisionOf(const std::map<std::string, std::string>& files) {
  testing::TempPolicyDir dir;
  for (auto& [name, text] : files) dir.write(name, text);
  LoadOptions options;
  options.workerCheck = LoadOptions::WorkerCheck::SKIP;
  LoadResult loaded = loadPolicyDir(dir.path(), options);
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].describe());
  return policyRevision(loaded.units);
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

TEST(PolicyRevisionTest, TheSamePolicyHasTheSameRevisionWhereverItIsLoadedFrom) {
  std::string rev = revisionOf({{"probe.toml", POLICY}});
  EXPECT_EQ(rev.size(), POLICY_REVISION_HEX_CHARS);
  EXPECT_EQ(rev.find_first_not_of("0123456789abcdef"), std::string::npos) << rev;
  EXPECT_EQ(revisionOf({{"probe.toml", POLICY}}), rev);
  EXPECT_EQ(revisionOf({{"renamed.toml", POLICY}}), rev) << "file names are not meaning";
}

TEST(PolicyRevisionTest, CommentsWhitespaceAndKeyOrderDoNotChangeIt) {
  std::string rev = revisionOf({{"probe.toml", POLICY}});
  EXPECT_EQ(revisionOf({{"probe.toml", "# reviewed by sec\n\n" + std::string(POLICY)}}), rev);
  EXPECT_EQ(revisionOf({{"probe.toml", replaced(POLICY, "mode = [\"read\"]",
                                                "mode   =   [ \"read\" ]  # ro")}}), rev);
  EXPECT_EQ(revisionOf({{"probe.toml", replaced(POLICY, "id = \"data-read\"\nallow = \"fs.open\"",
                                                "allow = \"fs.open\"\nid = \"data-read\"")}}),
            rev);
}

TEST(PolicyRevisionTest, AnyChangeInMeaningChangesIt) {
  std::string rev = revisionOf({{"probe.toml", POLICY}});
  std::vector<std::pair<std::string, std::string>> edits = {
      {"mode = [\"read\"]", "mode = [\"read\", \"write\"]"},
      {"/srv/data/**", "/srv/data/*"},
      {"allow = \"fs.open\"", "deny = \"fs.open\""},
      {"id = \"data-read\"", "id = \"data-read2\""},
      {"caller = [\"web\"]", "caller = [\"web\"]\ncaller_uid = [33]"},
      {"method = [\"*\"]", "method = [\"thumbnail\"]"},
      {"worker = \"probe-worker\"", "worker = \"probe-worker\"\ninstances = 2"},
  };
  for (auto& [from, to] : edits) {
    EXPECT_NE(revisionOf({{"probe.toml", replaced(POLICY, from, to)}}), rev) << from << " -> " << to;
  }
  std::string other = replaced(POLICY, "name = \"probe\"", "name = \"other\"");
  EXPECT_NE(revisionOf({{"probe.toml", POLICY}, {"other.toml", other}}), rev);
}

TEST(PolicyRevisionTest, APolicyWithoutCallerUnitKeepsTheRevisionItHadBeforeInvokeExisted) {
  // POLICY's revision before invoke rules and caller_unit were added to the canonical form.
  EXPECT_EQ(revisionOf({{"probe.toml", POLICY}}), "be9faa517af2e2a3a0afd6a670efb52e");
  std::string withUnit = std::string(POLICY) + "caller_unit = [\"back\"]\n";
  EXPECT_NE(revisionOf({{"probe.toml", withUnit}}), revisionOf({{"probe.toml", POLICY}}));
  std::string invoke = std::string(POLICY) +
                       "\n[[rule]]\nid = \"i\"\nallow = \"invoke\"\nunit = [\"a\"]\nmethod = [\"m\"]\n";
  EXPECT_NE(revisionOf({{"probe.toml", invoke}}),
            revisionOf({{"probe.toml", replaced(invoke, "[\"m\"]", "[\"n\"]")}}));
}

// One rule of every operation, with every key its rules take.
constexpr char EVERY_OPERATION[] = R"([unit]
name = "every"
worker = "every-worker"

[[rule]]
id = "open"
allow = "fs.open"
path = "/srv/data/**"
mode = ["read", "write"]

[[rule]]
id = "calls"
allow = "call"
caller = ["web", "cli"]
caller_uid = [1000, 1001]
method = ["*", "thumb"]

[[rule]]
id = "unit-calls"
deny = "call"
caller_unit = ["other"]
method = ["x"]

[[rule]]
id = "both-calls"
allow = "call"
caller = ["web"]
caller_unit = ["other"]
method = ["y"]

[[rule]]
id = "secret"
allow = "secrets.get"
name = ["db-password", "token"]

[[rule]]
id = "stat"
allow = "fs.stat"
path = "/srv/**"

[[rule]]
id = "list"
deny = "fs.list"
path = "/srv/private"

[[rule]]
id = "mkdir"
allow = "fs.mkdir"
path = "/srv/data/*"

[[rule]]
id = "unlink"
allow = "fs.unlink"
path = "/srv/data/**"

[[rule]]
id = "rename"
allow = "fs.rename"
path = "/srv/data/**"

[[rule]]
id = "symlink"
allow = "fs.symlink"
path = "/srv/data/**"

[[rule]]
id = "tcp"
allow = "net.connect"
host = ["example.com", "10.0.0.0/8", "::1"]
port = [443, "8000-8999"]

[[rule]]
id = "unix"
allow = "net.connect"
unix_path = "/srv/sock/*.sock"

[[rule]]
id = "inv"
allow = "invoke"
unit = ["other"]
method = ["*"]

)";

constexpr char OTHER_UNIT[] = R"([unit]
name = "other"
worker = "other-worker"

[[rule]]
id = "c"
allow = "call"
caller = ["web"]
method = ["*"]
)";

TEST(PolicyRevisionTest, ARuleOfEveryOperationKeepsTheRevisionItHadBeforeTheOperationsTable) {
  // Computed before each operation's canonical form moved into its row of the operations table
  // (operations.h): a row writing its fields differently would change every deployed revision.
  EXPECT_EQ(revisionOf({{"every.toml", EVERY_OPERATION}, {"other.toml", OTHER_UNIT}}),
            "efd3ca16442ac9582e716cd4af40ec7f");
}

TEST(PolicyRevisionTest, RestartKeysCountOnlyWhenNotTheDefault) {
  // Policies written before these keys existed keep their revision.
  std::string rev = revisionOf({{"probe.toml", POLICY}});
  const std::string worker = "worker = \"probe-worker\"";
  EXPECT_EQ(revisionOf({{"probe.toml", replaced(POLICY, worker, worker + "\nrestart = \"always\"")}}),
            rev);
  for (const char* key : {"restart = \"never\"", "restart = \"on-failure\"",
                          "crash_loop_limit = 3", "max_calls_in_flight = 4",
                          "max_calls_per_second = 10",
                          "crash_loop_limit = 3\ncrash_loop_window_ms = 1000"}) {
    EXPECT_NE(revisionOf({{"probe.toml", replaced(POLICY, worker, worker + "\n" + key)}}), rev)
        << key;
  }
  EXPECT_NE(revisionOf({{"probe.toml", replaced(POLICY, worker, worker + "\ncrash_loop_limit = 3")}}),
            revisionOf({{"probe.toml", replaced(POLICY, worker, worker + "\ncrash_loop_limit = 4")}}));
}

TEST(PolicyRevisionTest, WorkerReuseCountsOnlyWhenNotAny) {
  std::string rev = revisionOf({{"probe.toml", POLICY}});
  const std::string worker = "worker = \"probe-worker\"";
  auto with = [&](const std::string& value) {
    return revisionOf({{"probe.toml", replaced(POLICY, worker,
                                               worker + "\nworker_reuse = \"" + value + "\"")}});
  };
  EXPECT_EQ(with("any"), rev) << "a policy without the key keeps its revision";
  EXPECT_NE(with("per-caller"), rev);
  EXPECT_NE(with("never"), rev);
  EXPECT_NE(with("never"), with("per-caller"));
}

TEST(PolicyRevisionTest, StampingSharesOneStringAcrossUnits) {
  std::vector<UnitPolicy> units(2);
  units[0].name = "a";
  units[1].name = "b";
  auto revision = stampRevision(units);
  ASSERT_NE(revision, nullptr);
  EXPECT_EQ(*revision, policyRevision(units));
  EXPECT_EQ(units[0].revision.get(), revision.get());
  EXPECT_EQ(units[1].revision.get(), revision.get());
}

}  // namespace
}  // namespace airlock::policy

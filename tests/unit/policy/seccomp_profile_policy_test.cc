// [sandbox] seccomp_profile and the dangerous syscall groups, as the policy loader reads them.

#include <gtest/gtest.h>

#include "broker/policy/load/policy_loader.h"
#include "broker/policy/model/revision.h"
#include "broker/policy/review/unit_changes.h"
#include "sandbox/profile_grants.h"
#include "tests/unit/policy/temp_policy_dir.h"

namespace airlock::policy {
namespace {

using testing::TempPolicyDir;

constexpr char HEAD[] = "[unit]\nname = \"a\"\nworker = \"w\"\n[sandbox]\n";
constexpr char PROFILE[] = R"({
  "defaultAction": "SCMP_ACT_ERRNO",
  "syscalls": [{"names": ["statfs", "ptrace"], "action": "SCMP_ACT_ALLOW"}]
})";

class SeccompProfilePolicyTest : public ::testing::Test {
 protected:
  void SetUp() override { options_.workerCheck = LoadOptions::WorkerCheck::SKIP; }

  LoadResult load(const std::string& sandbox) {
    return loadPolicyFile(dir_.write("policies/unit.toml", HEAD + sandbox), options_);
  }
  LoadResult loadDir() { return loadPolicyDir(dir_.path() + "/policies", options_); }
  std::string firstError(const LoadResult& r) {
    if (r.errors.empty()) return "no error";
    std::string text = r.errors[0].describe();
    for (size_t at; (at = text.find(dir_.path())) != std::string::npos;) {
      text.replace(at, dir_.path().size(), "D");
    }
    return text;
  }
  bool warns(const LoadResult& r, const std::string& part) {
    for (auto& w : r.warnings) {
      if (w.describe().find(part) != std::string::npos) return true;
    }
    return false;
  }

  TempPolicyDir dir_;
  LoadOptions options_;
};

TEST_F(SeccompProfilePolicyTest, AProfileRelativeToThePolicyFileIsReadAndGranted) {
  dir_.write("policies/profiles/p.json", PROFILE);
  LoadResult r = load("seccomp_profile = \"profiles/p.json\"\n");
  ASSERT_TRUE(r.ok()) << firstError(r);
  ASSERT_NE(r.units[0].seccompProfile, nullptr);
  const auto& setting = *r.units[0].seccompProfile;
  EXPECT_EQ(setting.written, "profiles/p.json");
  ASSERT_EQ(setting.grants->granted.size(), 1u);
  EXPECT_EQ(setting.grants->granted[0].name, "statfs");
  ASSERT_EQ(setting.grants->refused.size(), 1u);
  EXPECT_EQ(setting.grants->refused[0].name, "ptrace");
  EXPECT_EQ(setting.grants->refused[0].path, "$.syscalls[0]");
  EXPECT_FALSE(warns(r, "grants nothing beyond the default"));
}

TEST_F(SeccompProfilePolicyTest, AMissingOrMalformedProfileFailsTheLoadWithWhereAndWhy) {
  EXPECT_EQ(firstError(load("seccomp_profile = \"none.json\"\n")),
            "D/policies/unit.toml:5:19: [sandbox] seccomp_profile: none.json: cannot read seccomp "
            "profile: No such file or directory (at D/policies/none.json)");
  dir_.write("policies/bad.json", R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
    {"names": ["statfs"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}]})");
  EXPECT_EQ(firstError(load("seccomp_profile = \"bad.json\"\n")),
            "D/policies/unit.toml:5:19: [sandbox] seccomp_profile: bad.json: "
            "$.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_XX\" (at D/policies/bad.json)");
  dir_.write("policies/broken.json", "{\n  \"defaultAction\": \n}");
  EXPECT_EQ(firstError(load("seccomp_profile = \"broken.json\"\n"))
                .rfind("D/policies/unit.toml:5:19: [sandbox] seccomp_profile: broken.json:3:1: "
                       "JSON syntax error: ",
                       0),
            0u)
      << firstError(load("seccomp_profile = \"broken.json\"\n"));
  // open(2) would stop at a NUL: the file read would not be the one written.
  dir_.write("policies/p.json", R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []})");
  EXPECT_EQ(firstError(load("seccomp_profile = \"p.json\\u0000x\"\n")),
            "D/policies/unit.toml:5:19: [sandbox] seccomp_profile: the path has a NUL byte");
}

TEST_F(SeccompProfilePolicyTest, AChangeToTheProfilesContentsIsAPolicyChange) {
  dir_.write("policies/unit.toml", std::string(HEAD) + "seccomp_profile = \"p.json\"\n");
  dir_.write("policies/p.json", PROFILE);
  LoadResult before = loadDir();
  ASSERT_TRUE(before.ok()) << firstError(before);
  // Whitespace is not meaning.
  dir_.write("policies/p.json", std::string(PROFILE) + "\n\n");
  LoadResult same = loadDir();
  EXPECT_EQ(policyRevision(same.units), policyRevision(before.units));
  dir_.write("policies/p.json", R"({"defaultAction": "SCMP_ACT_ERRNO",
    "syscalls": [{"names": ["statfs", "sysinfo"], "action": "SCMP_ACT_ALLOW"}]})");
  LoadResult after = loadDir();
  ASSERT_TRUE(after.ok()) << firstError(after);
  EXPECT_NE(policyRevision(after.units), policyRevision(before.units));
  // The worker's filter changes with it: a reload restarts the unit's workers.
  UnitChanges changes = compareUnits(before.units, after.units);
  EXPECT_EQ(changes.restarted, std::vector<std::string>{"a"});
  // And the loader kept what it read: the first load's grants are still the old file's.
  EXPECT_EQ(before.units[0].seccompProfile->grants->granted.size(), 1u);
  EXPECT_EQ(after.units[0].seccompProfile->grants->granted.size(), 2u);
}

TEST_F(SeccompProfilePolicyTest, AProfileThatGrantsNothingBeyondTheDefaultIsWarnedAbout) {
  dir_.write("policies/p.json", R"({"defaultAction": "SCMP_ACT_ERRNO",
    "syscalls": [{"names": ["read", "write", "ptrace"], "action": "SCMP_ACT_ALLOW"}]})");
  LoadResult r = load("seccomp_profile = \"p.json\"\n");
  ASSERT_TRUE(r.ok()) << firstError(r);
  EXPECT_TRUE(warns(r, "/policies/unit.toml:5:19: [sandbox] seccomp_profile \"p.json\" grants "
                       "nothing beyond the default groups (2 granted syscalls are in them, 1 stay "
                       "refused): the unit runs as it would without it"));
}

TEST_F(SeccompProfilePolicyTest, ADangerousGroupNeedsAJustification) {
  EXPECT_EQ(firstError(load("syscalls = [\"executable-memory\"]\n")),
            "D/policies/unit.toml:5:13: [sandbox] syscalls \"executable-memory\" is a dangerous "
            "allowance (memory the worker wrote can become code: an exploit runs its own "
            "instructions without a ROP chain): it needs justification = \"...\" in [sandbox] "
            "saying why");
  LoadResult justified = load(
      "justification = \"the worker embeds a JavaScript engine with its JIT\"\n"
      "syscalls = [\"executable-memory\"]\n");
  ASSERT_TRUE(justified.ok()) << firstError(justified);
  EXPECT_EQ(justified.units[0].syscalls, std::vector<std::string>{"executable-memory"});
}

}  // namespace
}  // namespace airlock::policy

#include "sandbox/profile_grants.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <algorithm>
#include <set>
#include <string>

#include "sandbox/seccomp_filter.h"
#include "tests/unit/sandbox/bpf_run.h"

namespace airlock::sandbox {
namespace {

using testing::runFilter;

constexpr WorkerConditions KERNEL_6_1{6, 1};
constexpr const char* DOCKER_PROFILE = AIRLOCK_SOURCE_DIR "/tests/data/seccomp/docker-default.json";

SeccompProfile profileFrom(const std::string& text) {
  ProfileParse result = parseSeccompProfile(text, "profile.json");
  if (auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << *error;
    return {};
  }
  return std::get<SeccompProfile>(result);
}

// A profile allowing `name` under the `args` JSON array.
ProfileGrants grantOne(const std::string& name, const std::string& args = "[]") {
  return grantProfile(profileFrom(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": [")" + name + R"("], "action": "SCMP_ACT_ALLOW", "args": )" + args + "}]}"),
                      KERNEL_6_1);
}

const GrantedSyscall* granted(const ProfileGrants& grants, const std::string& name) {
  for (auto& g : grants.granted) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

std::string refusal(const ProfileGrants& grants, const std::string& name) {
  for (auto& r : grants.refused) {
    if (r.name == name) return r.reason;
  }
  return "not refused";
}

SeccompFilter filterWith(const ProfileGrants& grants) {
  return SeccompFilter::compile(defaultWorkerGroups(), grants);
}

ProfileGrants dockerDefault() {
  ProfileParse result = readSeccompProfile(DOCKER_PROFILE, "docker-default.json");
  if (auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << *error;
    return {};
  }
  return grantProfile(std::get<SeccompProfile>(result), KERNEL_6_1);
}

TEST(ProfileGrants, TheDockerStyleTestProfileHasAboutThreeHundredSixtySyscallsForAWorker) {
  ProfileParse result = readSeccompProfile(DOCKER_PROFILE, "docker-default.json");
  ASSERT_TRUE(std::holds_alternative<SeccompProfile>(result)) << std::get<std::string>(result);
  std::set<std::string> asked;
  for (auto& rule : std::get<SeccompProfile>(result).rules) {
    if (rule.action != ProfileAction::ALLOW || !ruleAppliesToWorker(rule, KERNEL_6_1)) continue;
    asked.insert(rule.names.begin(), rule.names.end());
  }
  EXPECT_GE(asked.size(), 350u);
  EXPECT_LE(asked.size(), 370u);
  ProfileGrants grants = grantProfile(std::get<SeccompProfile>(result), KERNEL_6_1);
  EXPECT_EQ(grants.granted.size() + grants.refused.size(), asked.size());
}

TEST(ProfileGrants, ADockerProfileGetsWhatTheTableBoundsAndEveryOtherSyscallIsListed) {
  ProfileGrants grants = dockerDefault();
  for (const char* name : {"statfs", "sysinfo", "chdir", "fchdir", "socketpair", "read", "clone"}) {
    EXPECT_NE(granted(grants, name), nullptr) << name;
  }
  EXPECT_EQ(granted(grants, "statfs")->group, "fs-metadata");
  EXPECT_FALSE(granted(grants, "statfs")->inDefaultGroup);
  EXPECT_TRUE(granted(grants, "read")->inDefaultGroup);
  // statfs, sysinfo, chdir, fchdir, socketpair, and the six extended-attribute reads, which the
  // table bounds to an EOPNOTSUPP answer (group xattrs-unsupported): asked for, never run.
  EXPECT_EQ(grants.grantedBeyondDefault(), 11u);
  EXPECT_EQ(granted(grants, "fgetxattr")->group, "xattrs-unsupported");
  EXPECT_EQ(refusal(grants, "ptrace"), "never granted: inspects and controls other processes");
  EXPECT_EQ(refusal(grants, "socket"), "never granted: v1 workers get sockets only from the broker");
  EXPECT_EQ(refusal(grants, "personality").rfind("never granted", 0), 0u);
  EXPECT_EQ(refusal(grants, "chown").rfind("never granted: changes a host file's owner", 0), 0u);
  EXPECT_EQ(refusal(grants, "fsetxattr").rfind("never granted", 0), 0u);
  EXPECT_EQ(refusal(grants, "sync").rfind("in no group of airlock's syscall table", 0), 0u);
  EXPECT_EQ(refusal(grants, "_llseek"), "not an x86-64 syscall");
  // Asked for only with a capability a worker never has, or on another architecture: not asked.
  EXPECT_EQ(refusal(grants, "mount"), "not refused");
  EXPECT_EQ(refusal(grants, "s390_runtime_instr"), "not refused");
  // SCMP_ACT_ERRNO asks for nothing: clone3 keeps the table's ENOSYS.
  EXPECT_EQ(refusal(grants, "clone3"), "not refused");
}

TEST(ProfileGrants, TheFilterAllowsWhatWasGrantedWithinTheTablesArgumentFilters) {
  ProfileGrants grants = dockerDefault();
  SeccompFilter filter = filterWith(grants);
  EXPECT_EQ(runFilter(filter.program(), "statfs"), SECCOMP_RET_ALLOW);
  EXPECT_EQ(runFilter(filter.program(), "sysinfo"), SECCOMP_RET_ALLOW);
  // Docker allows socketpair for every domain; the table, only AF_UNIX.
  EXPECT_EQ(runFilter(filter.program(), "socketpair", {AF_UNIX, SOCK_STREAM}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(runFilter(filter.program(), "socketpair", {AF_INET, SOCK_STREAM}),
            SECCOMP_RET_USER_NOTIF);
  EXPECT_EQ(runFilter(filter.program(), "ptrace"), SECCOMP_RET_USER_NOTIF);
  EXPECT_EQ(runFilter(filter.program(), "chown"), SECCOMP_RET_USER_NOTIF);
  EXPECT_EQ(runFilter(filter.program(), "socket", {AF_INET}), SECCOMP_RET_USER_NOTIF);
  // Without the profile statfs is refused: the grant is what made the difference.
  SeccompFilter plain = SeccompFilter::compile(defaultWorkerGroups());
  EXPECT_EQ(runFilter(plain.program(), "statfs"), SECCOMP_RET_USER_NOTIF);
}

// Each operator compiled into the filter: one value on each side of the comparison.
TEST(ProfileGrants, EveryOperatorIsKeptInTheFilter) {
  struct Case {
    const char* arg;
    uint64_t allowed, refused;
  } cases[] = {
      {R"({"index": 0, "value": 3, "op": "SCMP_CMP_NE"})", 4, 3},
      {R"({"index": 0, "value": 3, "op": "SCMP_CMP_LT"})", 2, 3},
      {R"({"index": 0, "value": 3, "op": "SCMP_CMP_LE"})", 3, 4},
      {R"({"index": 0, "value": 3, "op": "SCMP_CMP_EQ"})", 3, 4},
      {R"({"index": 0, "value": 3, "op": "SCMP_CMP_GE"})", 3, 2},
      {R"({"index": 0, "value": 3, "op": "SCMP_CMP_GT"})", 4, 3},
      {R"({"index": 0, "value": 240, "valueTwo": 16, "op": "SCMP_CMP_MASKED_EQ"})", 0x13, 0x23},
  };
  for (const Case& c : cases) {
    ProfileGrants grants = grantOne("fchdir", std::string("[") + c.arg + "]");
    ASSERT_NE(granted(grants, "fchdir"), nullptr) << c.arg;
    EXPECT_TRUE(granted(grants, "fchdir")->argumentFiltered);
    SeccompFilter filter = filterWith(grants);
    EXPECT_EQ(runFilter(filter.program(), "fchdir", {c.allowed}), SECCOMP_RET_ALLOW) << c.arg;
    EXPECT_EQ(runFilter(filter.program(), "fchdir", {c.refused}), SECCOMP_RET_USER_NOTIF) << c.arg;
  }
}

TEST(ProfileGrants, SeveralComparisonsOfOneRuleMustAllHold) {
  ProfileGrants grants = grantOne("fchdir", R"([{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"},
                                               {"index": 1, "value": 7, "op": "SCMP_CMP_EQ"}])");
  SeccompFilter filter = filterWith(grants);
  EXPECT_EQ(runFilter(filter.program(), "fchdir", {3, 7}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(runFilter(filter.program(), "fchdir", {3, 8}), SECCOMP_RET_USER_NOTIF);
}

TEST(ProfileGrants, AProfileFilterMeetsTheTablesOnTheSameRegister) {
  // socketpair's table entry: arg 0 is AF_UNIX.
  ProfileGrants unix = grantOne("socketpair", R"([{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}])");
  ASSERT_NE(granted(unix, "socketpair"), nullptr);
  EXPECT_EQ(runFilter(filterWith(unix).program(), "socketpair", {AF_UNIX}), SECCOMP_RET_ALLOW);
  ProfileGrants inet = grantOne("socketpair", R"([{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}])");
  EXPECT_EQ(granted(inet, "socketpair"), nullptr);
  EXPECT_EQ(refusal(inet, "socketpair").rfind("its argument filter never holds where airlock's does",
                                              0),
            0u);
  ProfileGrants range = grantOne("socketpair", R"([{"index": 0, "value": 0, "op": "SCMP_CMP_GE"}])");
  EXPECT_EQ(granted(range, "socketpair"), nullptr);
  EXPECT_EQ(refusal(range, "socketpair"),
            "its filter on arg 0 (SCMP_CMP_GE) cannot be combined with airlock's (allow if arg 0 "
            "is one of 0x1) in one seccomp rule");
}

TEST(ProfileGrants, ConditionsThatDoNotHoldForAWorkerAskForNothing) {
  ProfileGrants grants = grantProfile(profileFrom(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["statfs"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["sysinfo"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "9.0"}},
      {"names": ["chdir"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
      {"names": ["fchdir"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["getppid"], "action": "SCMP_ACT_LOG"}]})"),
                                      KERNEL_6_1);
  ASSERT_EQ(grants.granted.size(), 1u);
  EXPECT_EQ(grants.granted[0].name, "fchdir");
  EXPECT_TRUE(grants.refused.empty());
}

TEST(ProfileGrants, SyscallsNoArchitectureHasAreRefusedNotErrors) {
  ProfileGrants grants = grantOne("frobnicate");
  EXPECT_EQ(refusal(grants, "frobnicate"), "no architecture libseccomp knows has a syscall of that name");
}

TEST(ProfileGrants, AProfileNeverWidensATableEntry) {
  // clone without CLONE_THREAD would be fork; mmap PROT_WRITE|PROT_EXEC breaks W^X.
  ProfileGrants grants = grantOne("clone");
  SeccompFilter filter = SeccompFilter::compile(kj::ArrayPtr<const char* const>(nullptr), grants);
  EXPECT_EQ(runFilter(filter.program(), "clone", {SIGCHLD}), SECCOMP_RET_USER_NOTIF);
  EXPECT_EQ(runFilter(filter.program(), "clone", {CLONE_THREAD | CLONE_VM}), SECCOMP_RET_ALLOW);
  ProfileGrants mmap = grantOne("mmap");
  SeccompFilter memory = SeccompFilter::compile(kj::ArrayPtr<const char* const>(nullptr), mmap);
  EXPECT_EQ(runFilter(memory.program(), "mmap", {0, 4096, PROT_WRITE | PROT_EXEC, MAP_PRIVATE}),
            SECCOMP_RET_USER_NOTIF);
  EXPECT_EQ(runFilter(memory.program(), "mmap", {0, 4096, PROT_READ, MAP_PRIVATE}),
            SECCOMP_RET_ALLOW);
}

// Each never-granted syscall, named by a profile, stays refused: in the list with its reason,
// and answered by the supervisor's refusal in the filter.
class NeverGranted : public ::testing::TestWithParam<std::string> {};

TEST_P(NeverGranted, StaysRefusedWhenAProfileAllowsIt) {
  const std::string& name = GetParam();
  ProfileGrants grants = grantOne(name);
  EXPECT_EQ(granted(grants, name), nullptr);
  EXPECT_EQ(refusal(grants, name).rfind("never granted: ", 0), 0u) << refusal(grants, name);
  SeccompFilter filter = filterWith(grants);
  EXPECT_EQ(runFilter(filter.program(), name.c_str(), {AF_INET}), SECCOMP_RET_USER_NOTIF);
}

std::vector<std::string> forbiddenNames() {
  std::vector<std::string> out;
  for (auto& forbidden : forbiddenSyscalls()) out.push_back(forbidden.name);
  return out;
}

INSTANTIATE_TEST_SUITE_P(ProfileGrants, NeverGranted, ::testing::ValuesIn(forbiddenNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace airlock::sandbox

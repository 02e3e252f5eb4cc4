#include "sandbox/seccomp_profile.h"

#include <gtest/gtest.h>

#include <string>

namespace airlock::sandbox {
namespace {

constexpr WorkerConditions KERNEL_6_1{6, 1};

SeccompProfile parsed(const std::string& text) {
  ProfileParse result = parseSeccompProfile(text, "profile.json");
  if (auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << "unexpected error: " << *error;
    return {};
  }
  return std::get<SeccompProfile>(result);
}

std::string errorOf(const std::string& text) {
  ProfileParse result = parseSeccompProfile(text, "profile.json");
  if (auto* error = std::get_if<std::string>(&result)) return *error;
  return "parsed";
}

// A profile whose one rule is `rule` (JSON of one `syscalls` entry).
std::string withRule(const std::string& rule) {
  return R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" + rule + "]}";
}

TEST(SeccompProfile, ReadsTheOciFormat) {
  SeccompProfile profile = parsed(R"({
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "flags": ["SECCOMP_FILTER_FLAG_LOG"],
    "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})");
  EXPECT_EQ(profile.defaultAction, ProfileAction::ERRNO);
  EXPECT_EQ(profile.defaultErrnoRet, 38u);
  EXPECT_EQ(profile.architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
  EXPECT_EQ(profile.flags, std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"});
  ASSERT_EQ(profile.rules.size(), 2u);
  EXPECT_EQ(profile.rules[0].names, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(profile.rules[0].action, ProfileAction::ALLOW);
  EXPECT_EQ(profile.rules[0].path, "$.syscalls[0]");
  EXPECT_EQ(profile.rules[1].action, ProfileAction::ERRNO);
  EXPECT_EQ(profile.rules[1].errnoRet, 1u);
}

TEST(SeccompProfile, ReadsDockersArchMapNameCommentAndEmptyFields) {
  SeccompProfile profile = parsed(R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                 "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                {"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}],
    "syscalls": [{"name": "read", "action": "SCMP_ACT_ALLOW", "args": [], "comment": "",
                  "includes": {}, "excludes": {}},
                 {"names": ["write"], "action": "SCMP_ACT_ALLOW", "args": null}]})");
  EXPECT_EQ(profile.architectures,
            (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                                      "SCMP_ARCH_RISCV64"}));
  ASSERT_EQ(profile.rules.size(), 2u);
  EXPECT_EQ(profile.rules[0].names, std::vector<std::string>{"read"});
  EXPECT_TRUE(profile.rules[0].args.empty());
  EXPECT_TRUE(profile.rules[0].includes.empty());
}

TEST(SeccompProfile, EveryOperatorIsRead) {
  const std::pair<const char*, scmp_compare> ops[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  for (auto& [name, op] : ops) {
    SeccompProfile profile = parsed(withRule(
        std::string(R"({"names": ["socketpair"], "action": "SCMP_ACT_ALLOW", "args": [
          {"index": 5, "value": 18446744073709551615, "valueTwo": 7, "op": ")") +
        name + "\"}]}"));
    ASSERT_EQ(profile.rules.size(), 1u) << name;
    ASSERT_EQ(profile.rules[0].args.size(), 1u) << name;
    EXPECT_EQ(profile.rules[0].args[0], (ProfileArg{5, UINT64_MAX, 7, op})) << name;
    EXPECT_STREQ(compareOpName(op), name);
  }
}

TEST(SeccompProfile, EveryActionIsRead) {
  const std::pair<const char*, ProfileAction> actions[] = {
      {"SCMP_ACT_KILL", ProfileAction::KILL_THREAD},
      {"SCMP_ACT_KILL_THREAD", ProfileAction::KILL_THREAD},
      {"SCMP_ACT_KILL_PROCESS", ProfileAction::KILL_PROCESS},
      {"SCMP_ACT_TRAP", ProfileAction::TRAP},
      {"SCMP_ACT_ERRNO", ProfileAction::ERRNO},
      {"SCMP_ACT_TRACE", ProfileAction::TRACE},
      {"SCMP_ACT_ALLOW", ProfileAction::ALLOW},
      {"SCMP_ACT_LOG", ProfileAction::LOG},
      {"SCMP_ACT_NOTIFY", ProfileAction::NOTIFY}};
  for (auto& [name, action] : actions) {
    SeccompProfile profile =
        parsed(withRule(std::string(R"({"names": ["read"], "action": ")") + name + "\"}"));
    ASSERT_EQ(profile.rules.size(), 1u) << name;
    EXPECT_EQ(profile.rules[0].action, action) << name;
  }
}

TEST(SeccompProfile, ErrorsNameTheFileAndTheJsonPath) {
  EXPECT_EQ(errorOf(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{}, {}, {},
      {"names": ["read"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}]})"),
            "profile.json: $.syscalls[0]: missing \"names\"");
  std::string rule = R"({"names": ["read"], "action": "SCMP_ACT_ALLOW"})";
  EXPECT_EQ(errorOf(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" + rule + "," + rule +
                    "," + rule + R"(,
      {"names": ["read"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}]})"),
            "profile.json: $.syscalls[3].args[0].op: unknown operator \"SCMP_CMP_XX\"");
}

TEST(SeccompProfile, UnknownKeysAreErrorsAtTheirObject) {
  EXPECT_EQ(errorOf(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultAktion": 1})"),
            "profile.json: $: unknown key \"defaultAktion\"");
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", "arg": []})")),
            "profile.json: $.syscalls[0]: unknown key \"arg\"");
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                 "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ",
                                           "valueThree": 2}]})")),
            "profile.json: $.syscalls[0].args[0]: unknown key \"valueThree\"");
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                 "includes": {"capabilities": ["CAP_SYS_ADMIN"]}})")),
            "profile.json: $.syscalls[0].includes: unknown key \"capabilities\"");
  EXPECT_EQ(errorOf(R"({"defaultAction": "SCMP_ACT_ERRNO",
                        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "sub": []}]})"),
            "profile.json: $.archMap[0]: unknown key \"sub\"");
}

TEST(SeccompProfile, BadValuesAreErrors) {
  EXPECT_EQ(errorOf(R"({"defaultAction": "SCMP_ACT_DENY"})"),
            "profile.json: $.defaultAction: unknown action \"SCMP_ACT_DENY\"");
  EXPECT_EQ(errorOf(R"({"syscalls": []})"), "profile.json: $: missing \"defaultAction\"");
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                 "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]})")),
            "profile.json: $.syscalls[0].args[0].index: 6 is larger than 5");
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                 "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]})")),
            "profile.json: $.syscalls[0].args[0].value: expected a whole number from 0, got -1");
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                 "args": [{"index": 0, "value": 1.5, "op": "SCMP_CMP_EQ"}]})")),
            "profile.json: $.syscalls[0].args[0].value: expected a whole number from 0, got 1.5");
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                 "args": [{"index": 0, "op": "SCMP_CMP_EQ"}]})")),
            "profile.json: $.syscalls[0].args[0]: missing \"value\"");
  EXPECT_EQ(errorOf(withRule(R"({"names": "read", "action": "SCMP_ACT_ALLOW"})")),
            "profile.json: $.syscalls[0].names: expected an array of strings, got string");
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read", "Read!"], "action": "SCMP_ACT_ALLOW"})")),
            "profile.json: $.syscalls[0].names[1]: \"Read!\" is not a syscall name (a-z, 0-9 "
            "and '_')");
  EXPECT_EQ(errorOf(withRule(R"({"names": [], "action": "SCMP_ACT_ALLOW"})")),
            "profile.json: $.syscalls[0].names: empty: name at least one syscall");
  EXPECT_EQ(errorOf(withRule(R"({"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"})")),
            "profile.json: $.syscalls[0]: both \"name\" and \"names\": use one");
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                 "includes": {"caps": ["CAP_SYS_WIZARD"]}})")),
            "profile.json: $.syscalls[0].includes.caps[0]: unknown capability \"CAP_SYS_WIZARD\"");
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                 "excludes": {"arches": ["vax"]}})")),
            "profile.json: $.syscalls[0].excludes.arches[0]: unknown architecture \"vax\"");
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                 "includes": {"minKernel": "4"}})")),
            "profile.json: $.syscalls[0].includes.minKernel: \"4\": expected a kernel version "
            "\"MAJOR.MINOR\"");
  EXPECT_EQ(errorOf(R"({"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_X"]})"),
            "profile.json: $.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_X\"");
  EXPECT_EQ(errorOf(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_VAX"]})"),
            "profile.json: $.architectures[0]: unknown architecture \"SCMP_ARCH_VAX\"");
  EXPECT_EQ(errorOf(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_AARCH64"]})"),
            "profile.json: $.architectures: no SCMP_ARCH_X86_64: the profile says nothing for an "
            "x86-64 worker");
  EXPECT_EQ(errorOf(R"({"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/agent.sock"})"),
            "profile.json: $.listenerPath: airlock's supervisor is the only seccomp listener of a "
            "worker; remove it");
  EXPECT_EQ(errorOf("[]"), "profile.json: $: expected an object, got array");
}

TEST(SeccompProfile, AnAllowByDefaultProfileIsRefused) {
  EXPECT_EQ(errorOf(R"({"defaultAction": "SCMP_ACT_ALLOW"})").rfind(
                "profile.json: $.defaultAction: SCMP_ACT_ALLOW allows every syscall the profile "
                "does not name",
                0),
            0u);
  EXPECT_NE(errorOf(R"({"defaultAction": "SCMP_ACT_LOG"})"), "parsed");
}

TEST(SeccompProfile, ErrnoRetOnlyWhereTheActionHasOne) {
  EXPECT_EQ(parsed(withRule(R"({"names": ["read"], "action": "SCMP_ACT_TRACE", "errnoRet": 65535})"))
                .rules[0]
                .errnoRet,
            65535u);
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1})")),
            "profile.json: $.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an "
            "errno, not SCMP_ACT_ALLOW");
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4096})")),
            "profile.json: $.syscalls[0].errnoRet: 4096 is larger than 4095");
  // errno 0 is success: a refused syscall must never be told it ran.
  EXPECT_EQ(errorOf(withRule(R"({"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0})")),
            "profile.json: $.syscalls[0].errnoRet: errno 0 would answer a refused syscall with "
            "success: give an error number");
  EXPECT_EQ(errorOf(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 0})"),
            "profile.json: $.defaultErrnoRet: errno 0 would answer a refused syscall with "
            "success: give an error number");
  EXPECT_EQ(errorOf(R"({"defaultAction": "SCMP_ACT_KILL_PROCESS", "defaultErrnoRet": 1})"),
            "profile.json: $.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an "
            "errno, not SCMP_ACT_KILL_PROCESS");
}

TEST(SeccompProfile, SyntaxErrorsAndRepeatedKeysSayWhere) {
  EXPECT_EQ(errorOf("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [}\n}")
                .rfind("profile.json:3:16: JSON syntax error: ", 0),
            0u)
      << errorOf("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [}\n}");
  EXPECT_EQ(errorOf(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                 "action": "SCMP_ACT_KILL"})"))
                .rfind("profile.json: key \"action\" appears twice in one object", 0),
            0u);
  EXPECT_EQ(errorOf(std::string(MAX_SECCOMP_PROFILE_BYTES + 1, ' ')),
            "profile.json: larger than 1048576 bytes");
  // A number no double holds is an error of the file, not an exception out of the parser.
  EXPECT_EQ(errorOf(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 4444e44444444444})")
                .rfind("profile.json: JSON value the parser cannot hold: ", 0),
            0u);
}

TEST(SeccompProfile, TheCanonicalFormIgnoresWhitespaceAndKeyOrder) {
  SeccompProfile a = parsed(R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]})");
  SeccompProfile b = parsed(R"({
      "syscalls": [ { "action": "SCMP_ACT_ALLOW", "names": [ "read" ] } ],
      "defaultAction": "SCMP_ACT_ERRNO" })");
  SeccompProfile c = parsed(R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["write"],"action":"SCMP_ACT_ALLOW"}]})");
  EXPECT_EQ(a.canonical, b.canonical);
  EXPECT_NE(a.canonical, c.canonical);
}

// A worker has no capabilities, runs x86-64 code and this kernel.
TEST(SeccompProfile, IncludesAndExcludesAreEvaluatedForAWorker) {
  auto applies = [](const std::string& conditions, WorkerConditions worker = KERNEL_6_1) {
    SeccompProfile profile =
        parsed(withRule(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", )" + conditions + "}"));
    return ruleAppliesToWorker(profile.rules.at(0), worker);
  };
  EXPECT_TRUE(applies(R"("comment": "no conditions")"));
  EXPECT_FALSE(applies(R"("includes": {"caps": ["CAP_SYS_ADMIN"]})"));
  EXPECT_TRUE(applies(R"("excludes": {"caps": ["CAP_SYS_ADMIN"]})"));
  EXPECT_TRUE(applies(R"("includes": {"arches": ["amd64", "x32"]})"));
  EXPECT_TRUE(applies(R"("includes": {"arches": ["x86_64"]})"));
  EXPECT_FALSE(applies(R"("includes": {"arches": ["x32", "x86"]})"));
  EXPECT_FALSE(applies(R"("includes": {"arches": ["s390", "s390x"]})"));
  EXPECT_FALSE(applies(R"("excludes": {"arches": ["amd64"]})"));
  EXPECT_TRUE(applies(R"("excludes": {"arches": ["s390", "s390x"]})"));
  EXPECT_TRUE(applies(R"("includes": {"minKernel": "4.8"})"));
  EXPECT_TRUE(applies(R"("includes": {"minKernel": "6.1"})"));
  EXPECT_FALSE(applies(R"("includes": {"minKernel": "6.2"})"));
  EXPECT_FALSE(applies(R"("includes": {"minKernel": "4.8"})", WorkerConditions{4, 7}));
  EXPECT_FALSE(applies(R"("excludes": {"minKernel": "5.0"})"));
  EXPECT_TRUE(applies(R"("excludes": {"minKernel": "7.0"})"));
  EXPECT_FALSE(applies(R"("includes": {"arches": ["amd64"], "caps": ["CAP_BPF"]})"));
}

TEST(SeccompProfile, TheKernelVersionIsReadFromUname) {
  WorkerConditions here = thisKernelConditions();
  EXPECT_GE(here.kernelMajor, 3u);  // airlock needs seccomp user notification (5.0) anyway
}

}  // namespace
}  // namespace airlock::sandbox

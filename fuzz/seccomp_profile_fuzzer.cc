// libFuzzer target: the input is one seccomp profile (OCI or Docker JSON). Whatever it holds, the
// parser returns a profile or one error naming the file; a profile's canonical form parses to
// itself; and what grantProfile gives a worker keeps airlock's line: nothing never-granted, only
// syscalls a non-dangerous group lists, at most one comparison per register in a rule (what
// libseccomp can write), and a filter that compiles. Any broken invariant aborts.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <kj/exception.h>

#include "fuzz/fuzz_check.h"
#include "sandbox/profile_grants.h"
#include "sandbox/seccomp_filter.h"

namespace airlock::fuzz {
namespace {

using namespace airlock::sandbox;

void checkGrants(const ProfileGrants& grants) {
  for (const GrantedSyscall& granted : grants.granted) {
    for (auto& forbidden : forbiddenSyscalls()) {
      fuzzCheck(granted.name != forbidden.name, "a never-granted syscall was granted", granted.name);
    }
    KJ_IF_MAYBE(group, findSyscallGroup(granted.group.c_str())) {
      fuzzCheck(group->danger == nullptr, "a dangerous group bounded a grant", granted.name);
    } else {
      fuzzCheck(false, "a grant names no group", granted.name + " " + granted.group);
    }
    fuzzCheck(!granted.rules.empty(), "a grant without rules", granted.name);
    for (const CompiledRule& rule : granted.rules) {
      for (size_t i = 0; i < rule.conditions.size(); ++i) {
        for (size_t j = i + 1; j < rule.conditions.size(); ++j) {
          fuzzCheck(rule.conditions[i].arg != rule.conditions[j].arg,
                    "two comparisons of one register in a rule", granted.name);
        }
      }
    }
  }
  auto failure = kj::runCatchingExceptions(
      [&]() { (void)SeccompFilter::compile(defaultWorkerGroups(), grants); });
  KJ_IF_MAYBE(e, failure) {
    fuzzCheck(false, "the granted rules do not compile", e->getDescription().cStr());
  }
}

}  // namespace
}  // namespace airlock::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace airlock::sandbox;
  using airlock::fuzz::fuzzCheck;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ProfileParse parsed = parseSeccompProfile(text, "profile.json");
  if (auto* error = std::get_if<std::string>(&parsed)) {
    fuzzCheck(error->rfind("profile.json", 0) == 0, "an error that does not name the file", *error);
    return 0;
  }
  const SeccompProfile& profile = std::get<SeccompProfile>(parsed);
  ProfileParse again = parseSeccompProfile(profile.canonical, "canonical.json");
  auto* reparsed = std::get_if<SeccompProfile>(&again);
  fuzzCheck(reparsed != nullptr, "the canonical form does not parse",
            reparsed == nullptr ? std::get<std::string>(again) : "");
  fuzzCheck(reparsed->canonical == profile.canonical, "the canonical form is not a fixed point",
            profile.canonical);
  airlock::fuzz::checkGrants(grantProfile(profile, WorkerConditions{6, 1}));
  return 0;
}

#pragma once
// A seccomp profile in the OCI runtime-spec format (`linux.seccomp`) or Docker's format
// (`archMap`, `includes`/`excludes`, `comment`), read with a strict parser: every key it does not
// know and every bad value is an error naming the file and the JSON path. What such a profile may
// grant a worker is decided elsewhere (profile_grants.h); this is only the profile as written.

#include <seccomp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace airlock::sandbox {

// Largest profile read: Docker's default is about 20 KiB; ten times that is still a profile.
inline constexpr size_t MAX_SECCOMP_PROFILE_BYTES = 1 << 20;

enum class ProfileAction : uint8_t {
  KILL_THREAD,   // SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD
  KILL_PROCESS,  // SCMP_ACT_KILL_PROCESS
  TRAP,          // SCMP_ACT_TRAP
  ERRNO,         // SCMP_ACT_ERRNO (errnoRet, default EPERM)
  TRACE,         // SCMP_ACT_TRACE (errnoRet is the tracer's message)
  ALLOW,         // SCMP_ACT_ALLOW
  LOG,           // SCMP_ACT_LOG: allowed and logged by the kernel
  NOTIFY,        // SCMP_ACT_NOTIFY: a listener decides
};
const char* profileActionName(ProfileAction action);  // "SCMP_ACT_ALLOW", ...

// One `args` entry: libseccomp's comparison of register `index`. For SCMP_CMP_MASKED_EQ `value`
// is the mask and `valueTwo` what the masked register must equal (as OCI and libseccomp say).
struct ProfileArg {
  unsigned index = 0;
  uint64_t value = 0;
  uint64_t valueTwo = 0;
  scmp_compare op = SCMP_CMP_EQ;
  bool operator==(const ProfileArg&) const = default;
};
const char* compareOpName(scmp_compare op);  // "SCMP_CMP_EQ", ...

// `includes` / `excludes` of a Docker rule. Empty fields say nothing.
struct ProfileFilter {
  std::vector<std::string> caps;    // CAP_* names
  std::vector<std::string> arches;  // Go/Docker arch names ("amd64", "arm64", ...)
  std::optional<std::pair<unsigned, unsigned>> minKernel;  // "major.minor"
  bool empty() const { return caps.empty() && arches.empty() && !minKernel; }
};

struct ProfileRule {
  std::vector<std::string> names;  // `names`, or the one `name`
  ProfileAction action = ProfileAction::ALLOW;
  std::optional<uint32_t> errnoRet;
  std::vector<ProfileArg> args;  // all must hold (libseccomp ANDs a rule's comparisons)
  ProfileFilter includes, excludes;
  std::string path;  // "$.syscalls[3]": where it is written, for messages
};

struct SeccompProfile {
  ProfileAction defaultAction = ProfileAction::ERRNO;
  std::optional<uint32_t> defaultErrnoRet;
  std::vector<std::string> architectures;  // SCMP_ARCH_* from `architectures` and `archMap`
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
  std::vector<ProfileRule> rules;          // `syscalls`, in file order
  std::string canonical;
  // The parsed document as compact JSON with sorted keys: equal for two files exactly when they
  // say the same (whitespace and key order aside). What the policy revision digests.
};

// What a rule's conditions are evaluated against: the worker that runs under the profile. A
// worker has no capabilities and runs x86-64 code only, so those are not parameters.
struct WorkerConditions {
  unsigned kernelMajor = 0;
  unsigned kernelMinor = 0;
};
WorkerConditions thisKernelConditions();
// From uname(2)'s release ("6.8.0-45-generic" -> 6.8). Any thread; reads nothing else.

bool ruleAppliesToWorker(const ProfileRule& rule, const WorkerConditions& worker);
// Docker's reading: every `includes` condition must hold (all its caps, one of its arches, the
// kernel at least minKernel) and no `excludes` condition may (one of its caps, one of its arches,
// the kernel at least minKernel). A worker's arch is "amd64" (also written "x86_64").

// Parsing either yields the profile or one error, "FILE: $.json.path: what is wrong" (a JSON
// syntax error: "FILE:line:col: JSON syntax error: ...").
using ProfileParse = std::variant<SeccompProfile, std::string>;

[[nodiscard]] ProfileParse parseSeccompProfile(std::string_view text, std::string_view file);
// Pure: borrows `text` for the call, touches nothing else; never throws for bad input. `file`
// only names the profile in messages. Refuses text past MAX_SECCOMP_PROFILE_BYTES, duplicate keys,
// unknown keys, wrong types, unknown actions, operators, arches, flags and capabilities, an
// `index` past 5, negative or fractional numbers, errnoRet on an action that has none, and an
// allow-by-default profile (SCMP_ACT_ALLOW or SCMP_ACT_LOG as defaultAction: a denylist cannot be
// intersected with airlock's allowlist). Syscall names are checked for their spelling only; a name
// libseccomp does not know is for the grant to refuse (profile_grants.h), not the parser.

[[nodiscard]] ProfileParse readSeccompProfile(const std::string& path, std::string_view shownAs);
// Reads the file at `path` once (at most MAX_SECCOMP_PROFILE_BYTES) and parses it; a missing or
// unreadable file is an error naming `shownAs` and errno's text. At policy load only.

}  // namespace airlock::sandbox

#pragma once
// The review gate: allowances dangerous enough that a policy must say why it needs them, in a
// `justification = "..."` on the rule, or the policy is refused (the gate minijail's linter gives
// seccomp policies). Pure.

#include <string>
#include <string_view>

#include "broker/policy/model/policy.h"

namespace airlock::policy {

// Directories that hold the system rather than data: write access under one of them (or to the
// whole file system) is dangerous. Sorted.
inline constexpr std::string_view SYSTEM_DIRECTORIES[] = {
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32",
    "/proc", "/root", "/run", "/sbin", "/sys", "/usr"};

// The system directory `root` is or is under ("/etc" for "/etc/ssl"), or "" if none.
std::string_view systemDirectoryOf(std::string_view root);

// Why `rule` is a dangerous allowance ("grants the whole file system (path \"/**\")", "grants
// write access under /etc, a system directory"; for net.connect: a block of every address
// (0.0.0.0/0, ::/0), ports covering 1-65535, unix_path "/**" or a socket under a system
// directory), or "" if it is not. Deny rules never are. Write access: fs.open with write, create,
// truncate or append, and every fs.mkdir, fs.unlink, fs.rename and fs.symlink allow.
std::string dangerousAllowance(const Rule& rule);

}  // namespace airlock::policy

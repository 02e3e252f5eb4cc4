#include "sandbox/native_first.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>

#include "sandbox/beside_own_binary.h"
#include "sandbox/native_first/gadget.h"

namespace airlock::sandbox {

namespace _ {

constexpr char PRELOAD[] = "LD_PRELOAD=";
constexpr char ROOTS[] = "AIRLOCK_BROKERED_ROOTS=";

// Sets `prefix`VALUE in `env`, replacing an entry with that prefix.
void setEnv(std::vector<std::string>& env, const char* prefix, const std::string& value) {
  auto named = [&](const std::string& entry) { return entry.starts_with(prefix); };
  env.erase(std::remove_if(env.begin(), env.end(), named), env.end());
  env.push_back(prefix + value);
}

}  // namespace _

std::string nativeFirstLibrary() { return besideOwnBinary(AIRLOCK_NATIVE_FIRST_FROM_BINDIR); }

void enableNativeFirst(SandboxSpec& spec, const std::string& library,
                       const std::vector<std::string>& brokeredRoots) {
  if (library.empty() || spec.brokeredSyscalls.empty() || spec.landlock != Strictness::REQUIRED) {
    return;
  }
  std::string preloaded = std::string(_::PRELOAD) + library;
  for (auto& entry : spec.env) {
    if (entry.starts_with(_::PRELOAD) && entry != preloaded) return;  // the user's own preload
  }
  std::string roots;
  for (auto& root : brokeredRoots) {
    if (root.find(':') != std::string::npos) return;
    roots += (roots.empty() ? "" : ":") + root;
  }
  _::setEnv(spec.env, _::PRELOAD, library);
  _::setEnv(spec.env, _::ROOTS, roots);
  spec.nativeFirstLibrary = library;
}

}  // namespace airlock::sandbox

namespace airlock::sandbox {

std::vector<sock_filter> nativeFirstPrologue() {
  constexpr uint32_t IP_LOW = static_cast<uint32_t>(AIRLOCK_GADGET_SYSCALL_RETURN);
  constexpr uint32_t IP_HIGH = static_cast<uint32_t>(AIRLOCK_GADGET_SYSCALL_RETURN >> 32);
  constexpr uint32_t AT_FDCWD_BITS = static_cast<uint32_t>(-100);  // the int, as the kernel reads it
  const uint32_t pathOnly[] = {SYS_open, SYS_stat, SYS_lstat, SYS_access, SYS_readlink};
  const uint32_t onCwd[] = {SYS_openat, SYS_newfstatat, SYS_faccessat, SYS_readlinkat};
  // Jumps are relative and forward: written with the distance to two labels at the end, ALLOW
  // and REST (the first instruction after the prologue).
  std::vector<sock_filter> out;
  enum Target { NEXT, ALLOW, CHECK_FD, REST };
  struct Pending { size_t at; Target jt, jf; };
  std::vector<Pending> pending;
  auto stmt = [&](uint16_t code, uint32_t k) { out.push_back(BPF_STMT(code, k)); };
  auto jeq = [&](uint32_t k, Target jt, Target jf) {
    pending.push_back({out.size(), jt, jf});
    out.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 0));
  };
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch));
  jeq(AUDIT_ARCH_X86_64, NEXT, REST);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, instruction_pointer));
  jeq(IP_LOW, NEXT, REST);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, instruction_pointer) + 4);
  jeq(IP_HIGH, NEXT, REST);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr));
  for (uint32_t nr : pathOnly) jeq(nr, ALLOW, NEXT);
  for (uint32_t nr : onCwd) jeq(nr, CHECK_FD, NEXT);
  size_t jumpToRest = out.size();
  out.push_back(BPF_STMT(BPF_JMP | BPF_JA, 0));
  size_t checkFd = out.size();
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args));  // low half of args[0]
  jeq(AT_FDCWD_BITS, ALLOW, REST);
  size_t allow = out.size();
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  size_t rest = out.size();
  out[jumpToRest].k = static_cast<uint32_t>(rest - jumpToRest - 1);
  auto distance = [&](size_t from, Target to) -> uint8_t {
    size_t target = to == NEXT ? from + 1 : to == ALLOW ? allow : to == CHECK_FD ? checkFd : rest;
    return static_cast<uint8_t>(target - from - 1);
  };
  for (auto& p : pending) {
    out[p.at].jt = distance(p.at, p.jt);
    out[p.at].jf = distance(p.at, p.jf);
  }
  return out;
}

}  // namespace airlock::sandbox

#include "sandbox/refused_syscall.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>

#include <kj/debug.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "sandbox/syscall_sets.h"

namespace airlock::sandbox {

namespace _ {
namespace {

// x32 calls enter through the x86_64 entry with this bit set in the number.
constexpr int X32_SYSCALL_BIT = 0x40000000;

// The ABI a syscall came in through, when it is not the native one: "i386", "x32", or the
// audit arch number.
std::string foreignAbi(uint32_t arch, int nr) {
  if (arch == SCMP_ARCH_X86_64) return (nr & X32_SYSCALL_BIT) ? "x32" : "";
  if (arch == SCMP_ARCH_X86) return "i386";
  char hex[16];
  snprintf(hex, sizeof(hex), "0x%x", arch);
  return std::string("audit arch ") + hex;
}

}  // namespace
}  // namespace _

bool RefusedSyscall::foreignAbi() const { return !_::foreignAbi(arch, nr).empty(); }

std::string RefusedSyscall::name() const {
  std::string abi = _::foreignAbi(arch, nr);
  char* resolved = abi == "x32" ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_X32, nr)
                                : seccomp_syscall_resolve_num_arch(arch, nr);
  std::string out = resolved != nullptr ? resolved : "syscall_" + std::to_string(nr);
  free(resolved);
  return out;
}

std::string RefusedSyscall::describe() const {
  std::string abi = _::foreignAbi(arch, nr);
  char* resolved = abi == "x32" ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_X32, nr)
                                : seccomp_syscall_resolve_num_arch(arch, nr);
  bool known = resolved != nullptr;
  std::string name = known ? resolved : "syscall_" + std::to_string(nr);
  free(resolved);
  std::string text = name + "(";
  for (int i = 0; i < 6; ++i) {
    char hex[24];
    snprintf(hex, sizeof(hex), "%s0x%" PRIx64, i > 0 ? ", " : "", args[i]);
    text += hex;
  }
  text += ")";
  if (!abi.empty()) {
    return text + " [" + abi + " ABI: every syscall through a foreign architecture is refused]";
  }
  if (!known) return text;  // a number no table names: nothing to say about allowing it
  kj::Maybe<const SyscallGroup&> group = groupAllowing(name.c_str());
  for (auto& forbidden : forbiddenSyscalls()) {
    if (name != forbidden.name) continue;
    text += std::string(" [always refused: ") + forbidden.reason;
    KJ_IF_MAYBE(answering, group) {
      // The group cannot allow it, only answer it with an error the caller can fall back from.
      text += std::string("; group ") + answering->name + " answers some of these calls with " +
              "an error instead of stopping the worker (" + answering->reason + ")";
    }
    return text + "]";
  }
  // A group that lists it only with an argument filter or an answer (ioctl's requests, clone
  // with CLONE_THREAD, mmap never writable and executable) refused these arguments even if it
  // is in force: naming that group again would not help, so say what each group allows.
  std::string filtered;
  bool allowedOutright = false;
  for (auto& listing : syscallGroups()) {
    for (auto& entry : listing.syscalls) {
      if (name != entry.name) continue;
      allowedOutright |= entry.action == SyscallAction::ALLOW;
      filtered += std::string(filtered.empty() ? "" : "; ") + "group " + listing.name +
                  (listing.danger != nullptr ? " (dangerous)" : "") + ": " + describeAction(entry);
    }
  }
  if (!filtered.empty() && !allowedOutright) {
    return text + " [a group allows it only for some arguments: " + filtered +
           "; name that group if it is not in force and these arguments fit, else nothing " +
           "allows them (on_refused_syscall = \"errno\" answers such a call with an error)]";
  }
  KJ_IF_MAYBE(allowing, group) {
    // Named so the reader can allow it: the policy key, and the option to try it by hand.
    return text + " [in group " + allowing->name + ": add \"" + allowing->name +
           "\" to [sandbox] syscalls, or try airlock sandbox run --syscalls " + allowing->name +
           "]";
  }
  if (refusalOfSyscallName(name.c_str()) == nullptr) {
    return text + " [in no group: add \"" + name + "\" to [sandbox] syscalls by name, or try " +
           "airlock sandbox run --syscalls " + name + "]";
  }
  return text;
}

kj::Maybe<RefusedSyscall> receiveRefusal(int listenerFd) {
  struct seccomp_notif notification;
  memset(&notification, 0, sizeof(notification));  // the kernel requires a zeroed buffer
  if (ioctl(listenerFd, SECCOMP_IOCTL_NOTIF_RECV, &notification) < 0) {
    // ENOENT: the thread was killed before we read it. EBADF/ENOTTY would be our bug.
    if (errno == ENOENT || errno == EINTR) return nullptr;
    KJ_FAIL_SYSCALL("ioctl(SECCOMP_IOCTL_NOTIF_RECV)", errno, listenerFd);
  }
  RefusedSyscall refused;
  refused.arch = notification.data.arch;
  refused.nr = notification.data.nr;
  for (int i = 0; i < 6; ++i) refused.args[i] = notification.data.args[i];
  refused.pid = notification.pid;
  refused.id = notification.id;
  return refused;
}

namespace _ {
namespace {

void send(int listenerFd, uint64_t id, int errnoValue, uint32_t flags) {
  struct seccomp_notif_resp response;
  memset(&response, 0, sizeof(response));
  response.id = id;
  response.error = -errnoValue;
  response.val = 0;
  response.flags = flags;
  if (ioctl(listenerFd, SECCOMP_IOCTL_NOTIF_SEND, &response) < 0) {
    if (errno == ENOENT) return;  // the thread died (or was killed) before the answer
    KJ_FAIL_SYSCALL("ioctl(SECCOMP_IOCTL_NOTIF_SEND)", errno, listenerFd);
  }
}

}  // namespace
}  // namespace _

void answerRefusal(int listenerFd, const RefusedSyscall& refused, int errnoValue) {
  // Never SECCOMP_USER_NOTIF_FLAG_CONTINUE: the syscall must not run.
  _::send(listenerFd, refused.id, errnoValue, 0);
}

void continueLearned(int listenerFd, const RefusedSyscall& learned) {
  KJ_REQUIRE(learned.learned && !learned.foreignAbi(), "only a learned syscall runs",
             learned.name());
  _::send(listenerFd, learned.id, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

}  // namespace airlock::sandbox

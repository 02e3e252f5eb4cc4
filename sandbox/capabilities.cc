#include "sandbox/capabilities.h"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace airlock::sandbox {

namespace _ {

constexpr const char* STEP = "drop capabilities";

// The kernel may know more capabilities than our headers (or fewer), and /proc is not mounted
// in the child to read cap_last_cap: PR_CAPBSET_READ fails with EINVAL past the last one.
bool capabilityExists(int cap) { return prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; }

}  // namespace _

void dropAllCapabilities(const SetupReporter& reporter) {
  for (int cap = 0; _::capabilityExists(cap); ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      reporter.fail(_::STEP, errno, "prctl(PR_CAPBSET_DROP, %d)", cap);
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
    reporter.fail(_::STEP, errno, "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)");
  }
  // Uid 0 inside the sandbox must never mean "all capabilities": NOROOT stops execve granting
  // them, NO_SETUID_FIXUP stops uid changes adjusting them, KEEP_CAPS stays off, and ambient
  // raises are refused. Each is locked so the process cannot undo it.
  unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                       SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                       SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0) {
    reporter.fail(_::STEP, errno, "prctl(PR_SET_SECUREBITS, %#lx)", bits);
  }
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capset, &header, data) < 0) {
    reporter.fail(_::STEP, errno, "capset(v3, all empty)");
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    reporter.fail(_::STEP, errno, "prctl(PR_SET_NO_NEW_PRIVS, 1)");
  }
}

}  // namespace airlock::sandbox

#include "sandbox/landlock.h"

#include <elf.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <kj/debug.h>
#include <kj/io.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace airlock::sandbox {

namespace _ {

// Debian 12's <linux/landlock.h> stops at ABI 2; these are the kernel's uapi values.
constexpr uint64_t FS_TRUNCATE = 1ULL << 14;   // ABI 3
constexpr uint64_t FS_IOCTL_DEV = 1ULL << 15;  // ABI 5
constexpr uint64_t NET_BIND_TCP = 1ULL << 0;   // ABI 4
constexpr uint64_t NET_CONNECT_TCP = 1ULL << 1;
constexpr uint64_t SCOPE_ABSTRACT_UNIX_SOCKET = 1ULL << 0;  // ABI 6
constexpr uint64_t SCOPE_SIGNAL = 1ULL << 1;
constexpr uint32_t RESTRICT_SELF_LOG_NEW_EXEC_ON = 1U << 1;  // ABI 7

// The ruleset attribute as of ABI 6. Older kernels accept the larger size as long as the fields
// they do not know are zero, so one layout serves every ABI.
struct RulesetAttr {
  uint64_t handledAccessFs;
  uint64_t handledAccessNet;
  uint64_t scoped;
};

constexpr uint64_t FS_ABI1 = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                             LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
                             LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                             LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
                             LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                             LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                             LANDLOCK_ACCESS_FS_MAKE_SYM;

// Every filesystem right the ABI knows is handled, so each one not granted below is denied.
uint64_t handledFs(int abi) {
  uint64_t fs = FS_ABI1;
  if (abi >= 2) fs |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) fs |= FS_TRUNCATE;
  if (abi >= 5) fs |= FS_IOCTL_DEV;
  return fs;
}

// Reads PT_INTERP: execve opens the interpreter with exec intent, which Landlock checks as
// LANDLOCK_ACCESS_FS_EXECUTE. Libraries that ld.so then mmaps PROT_EXEC need only READ_FILE
// (Landlock does not govern mmap), and W^X there is seccomp's job.
std::string elfInterpreter(const std::string& program) {
  int raw = open(program.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) return "";  // the bind step reports a missing program with its own error
  kj::AutoCloseFd fd(raw);
  Elf64_Ehdr header;
  if (pread(fd.get(), &header, sizeof(header), 0) != sizeof(header)) return "";
  if (memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_phentsize != sizeof(Elf64_Phdr)) {
    return "";
  }
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr phdr;
    off_t at = static_cast<off_t>(header.e_phoff + i * sizeof(Elf64_Phdr));
    if (pread(fd.get(), &phdr, sizeof(phdr), at) != sizeof(phdr)) return "";
    if (phdr.p_type != PT_INTERP) continue;
    // A path, so bounded by PATH_MAX; anything longer is not an interpreter we can bind.
    if (phdr.p_filesz == 0 || phdr.p_filesz > 4096) return "";
    std::string path(phdr.p_filesz, '\0');
    if (pread(fd.get(), path.data(), path.size(), static_cast<off_t>(phdr.p_offset)) !=
        static_cast<ssize_t>(path.size())) {
      return "";
    }
    path.resize(strnlen(path.c_str(), path.size()));
    return path;
  }
  return "";
}

void addPathRule(int rulesetFd, const char* path, uint64_t access, const SetupReporter& reporter) {
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) reporter.fail("landlock", errno, "open(%s, O_PATH)", path);
  struct landlock_path_beneath_attr rule = {};
  rule.allowed_access = access;
  rule.parent_fd = fd;
  if (syscall(SYS_landlock_add_rule, rulesetFd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0) {
    reporter.fail("landlock", errno, "landlock_add_rule(%s, %#llx)", path,
                  static_cast<unsigned long long>(access));
  }
  close(fd);
}

}  // namespace _

namespace _ {
// capLandlockAbi's value: set once at start-up, before any sandbox, then only read.
std::atomic<int> landlockAbiCap{MAX_KNOWN_LANDLOCK_ABI};
}  // namespace _

int landlockAbi() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : std::min(static_cast<int>(abi), _::landlockAbiCap.load());
}

void capLandlockAbi(int most) {
  KJ_REQUIRE(most >= 0 && most <= MAX_KNOWN_LANDLOCK_ABI, "Landlock ABI cap out of range", most);
  _::landlockAbiCap.store(most);
}

LandlockPlan planLandlock(const SandboxSpec& spec, const RootPlan& root) {
  LandlockPlan plan;
  plan.abi = std::min({landlockAbi(), MAX_KNOWN_LANDLOCK_ABI, spec.landlockAbiCeiling});
  plan.program = root.programPath;
  plan.interpreter = _::elfInterpreter(root.programPath);
  if (plan.abi == 0) {
    KJ_REQUIRE(spec.landlock == Strictness::BEST_EFFORT,
               "sandbox setup failed: landlock: this kernel offers no Landlock "
               "(landlock_create_ruleset(VERSION) failed) and the sandbox requires it; run "
               "`airlock doctor`, or accept a weaker sandbox explicitly (landlock best-effort)");
    KJ_LOG(WARNING, "sandbox: Landlock unavailable; continuing without it (best-effort)",
           spec.program);
  }
  return plan;
}

void applyLandlock(const LandlockPlan& plan, const SetupReporter& reporter) {
  if (plan.abi == 0) return;
  _::RulesetAttr attr = {};
  attr.handledAccessFs = _::handledFs(plan.abi);
  if (plan.abi >= 4) attr.handledAccessNet = _::NET_BIND_TCP | _::NET_CONNECT_TCP;
  if (plan.abi >= 6) attr.scoped = _::SCOPE_ABSTRACT_UNIX_SOCKET | _::SCOPE_SIGNAL;
  int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0));
  if (ruleset < 0) {
    reporter.fail("landlock", errno, "landlock_create_ruleset(abi %d, fs %#llx)", plan.abi,
                  static_cast<unsigned long long>(attr.handledAccessFs));
  }
  // Read and list everything in the (already read-only, minimal) root; no write, create,
  // remove, rename/link (REFER), truncate or device ioctl anywhere.
  _::addPathRule(ruleset, "/", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR,
                 reporter);
  // Execute: only the program, and the interpreter the kernel opens for it.
  uint64_t exec = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE;
  _::addPathRule(ruleset, plan.program.c_str(), exec, reporter);
  if (!plan.interpreter.empty()) _::addPathRule(ruleset, plan.interpreter.c_str(), exec, reporter);
  // /dev/null is a sink: writing (and `> /dev/null`'s O_TRUNC) reaches nothing.
  uint64_t sink = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE;
  if (plan.abi >= 3) sink |= _::FS_TRUNCATE;
  _::addPathRule(ruleset, "/dev/null", sink, reporter);
  // No TCP rules: with the net rights handled, every bind and connect is denied.
  uint32_t flags = plan.abi >= 7 ? _::RESTRICT_SELF_LOG_NEW_EXEC_ON : 0;
  if (syscall(SYS_landlock_restrict_self, ruleset, flags) < 0) {
    reporter.fail("landlock", errno, "landlock_restrict_self(abi %d, %#x)", plan.abi, flags);
  }
  close(ruleset);
}

}  // namespace airlock::sandbox

// BrokeredCall's kinds that change names and metadata beneath a root (brokered_call.h): rename,
// symlink, chmod, utimes and truncate, decided and done like the SDK's fs.* requests; link and
// chown, refused. Each is recorded before it acts.

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "broker/caps/call_scope.h"
#include "broker/caps/fs_request.h"
#include "broker/caps/moved_links.h"
#include "broker/caps/worker_requests.h"
#include "broker/policy/model/path_pattern.h"
#include "broker/syscalls/brokered_call.h"
#include "broker/syscalls/brokered_call_steps.h"
#include "broker/syscalls/syscall_answer.h"
#include "broker/syscalls/worker_memory.h"

namespace airlock::broker::syscalls {

namespace _ {

// Permission bits a brokered chmod sets. Set-user-ID, set-group-ID and sticky bits are refused:
// a file the broker's uid owns must never become a set-ID program the sandbox chose.
constexpr mode_t SETTABLE_MODE_BITS = 0777;

// The bits chmod(2) reads of its mode: the kernel ignores the rest (bzip2 passes a whole
// st_mode, file type included), so the broker does too before it judges them.
constexpr uint64_t CHMOD_MODE_BITS = 07777;

constexpr char SET_ID_REFUSED[] =
    "rule matched, but set-user-ID, set-group-ID and sticky bits are never set by the broker";

// glibc's fchmodat(AT_SYMLINK_NOFOLLOW) opens the file O_PATH and chmods /proc/self/fd/N: the
// descriptor N that path names, or -1.
int procSelfFd(const std::string& path) {
  for (const char* prefix : {"/proc/self/fd/", "/proc/thread-self/fd/"}) {
    std::string_view p(prefix);
    if (!path.starts_with(p) || path.size() == p.size() || path.size() > p.size() + 9) continue;
    int fd = 0;
    for (char c : path.substr(p.size())) {
      if (c < '0' || c > '9') return -1;
      fd = fd * 10 + (c - '0');
    }
    return fd;
  }
  return -1;
}

constexpr char NO_HARD_LINKS[] =
    "hard links are not brokered: a link shares its inode with a file the rules may not grant "
    "(the SDK has no fs.link); answered EPERM, as a file system without hard links answers";


// The file at `parent.name` as an O_PATH descriptor, never following a final symlink (ELOOP):
// chmod through /proc/self/fd/N then acts on exactly that inode.
kj::AutoCloseFd pathFdOf(const ParentDir& parent, int& error) {
  int fd = openat(parent.fd.get(), parent.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    error = errno;
    return kj::AutoCloseFd();
  }
  kj::AutoCloseFd owned(fd);
  struct stat st;
  if (fstat(owned.get(), &st) != 0) {
    error = errno;
  } else if (S_ISLNK(st.st_mode)) {
    error = ELOOP;
  }
  return owned;
}

}  // namespace _

bool BrokeredCall::placeTwo(int fromDirArg, int fromPathArg, int toDirArg, int toPathArg,
                            std::string& from, std::string& to) {
  return place(fromDirArg, fromPathArg, from, InView::READ_ONLY) == Placed::BROKER &&
         place(toDirArg, toPathArg, to, InView::READ_ONLY) == Placed::BROKER;
}

void BrokeredCall::rename(int fromDirArg, int fromPathArg, int toDirArg, int toPathArg,
                          uint64_t flags) {
  // RENAME_EXCHANGE and RENAME_WHITEOUT make two changes or a device node: not brokered.
  if (flags & ~static_cast<uint64_t>(RENAME_NOREPLACE)) return answerError(EINVAL);
  std::string from, to;
  if (!placeTwo(fromDirArg, fromPathArg, toDirArg, toPathArg, from, to)) return;
  ++broker_.brokered_;
  auto rec = record(requests::FS_RENAME.event.data(), from);
  rec.args.erase("path");
  rec.args["from"] = from;
  rec.args["to"] = to;
  policy::Decision decision = [&]() {
    for (auto* path : {&from, &to}) {
      policy::Refusal refused = policy::validateRequestPath(*path);
      if (refused.refuses()) return _::refusedByDefault(refused.why());
    }
    return policy::decideFsRename(*broker_.unit_, from, to);
  }();
  Acted acted;
  // Both allowed beneath one root (decideFsRename), so both parents open beneath that root.
  KJ_IF_MAYBE(source, decision.allowed() ? parentFor(decision, from, acted.error, acted.failure)
                                         : nullptr) {
    KJ_IF_MAYBE(target, parentFor(decision, to, acted.error, acted.failure)) {
      struct stat st;
      MovedLinks moved = checkMovedLinks(*source, decision.rule->fs().path.root(), from, to);
      if (moved.outcome.escapeRefused()) {
        denyEscape(decision, moved.outcome.message);
      } else if (!moved.outcome.ok()) {
        acted.take(moved.outcome);
      } else if (moved.refusal) {
        denyMove(decision, moved.refusal.why());
      } else if ((flags & RENAME_NOREPLACE) &&
                 fstatat(target->fd.get(), target->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        acted.fail("renameat2", EEXIST);
      } else {
        if (!admit(rec, decision, acted)) return;  // nothing moved
        acted.take(renameAt(*source, *target));
      }
    }
  }
  conclude(rec, decision, acted.error, acted.failure, "renamed",
           Outcome::CHANGED_AFTER_ADMISSION, [&]() { answerValue(0); });
}

void BrokeredCall::symlink(int targetArg, int dirfdArg, int pathArg) {
  std::string target;
  int error = 0;
  if (!readPath(call_.pid, arg(targetArg), target, error)) return answerError(error);
  // place() checks the call is still pending after this read and its own.
  onePath(
      dirfdArg, pathArg,
      {requests::FS_SYMLINK.event, policy::Operation::FS_SYMLINK, InView::READ_ONLY, target},
      {{"target", target}}, "created", Outcome::CHANGED_AFTER_ADMISSION,
      [&](ParentDir& parent, audit::AuditRecord& rec, policy::Decision& decision, Acted& acted) {
        if (!admit(rec, decision, acted)) return;  // nothing made
        acted.take(symlinkAt(target, parent));
      },
      [&](int&) { answerValue(0); });
}

void BrokeredCall::link(int fromDirArg, int fromPathArg, int toDirArg, int toPathArg) {
  std::string from, to;
  if (!placeTwo(fromDirArg, fromPathArg, toDirArg, toPathArg, from, to)) return;
  ++broker_.brokered_;
  auto rec = record("fs.link", to);
  rec.args["target"] = from;
  (void)finish(rec, _::refusedByDefault(_::NO_HARD_LINKS), "");  // refused either way
  answerError(EPERM);
}

void BrokeredCall::chmod(int dirfdArg, int pathArg, uint64_t mode, uint64_t flags) {
  mode &= _::CHMOD_MODE_BITS;
  if (flags & ~static_cast<uint64_t>(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
    return answerError(EINVAL);
  }
  std::string raw;
  int error = 0;
  if (!readPath(call_.pid, arg(pathArg), raw, error)) return answerError(error);
  if (raw.empty() && (flags & AT_EMPTY_PATH)) {  // fchmodat2(fd, "", mode, AT_EMPTY_PATH)
    if (!stillPending(listenerFd_, call_)) return;
    return fdChmod(dirfdArg, mode);
  }
  int fd = _::procSelfFd(raw);
  if (fd >= 0) {
    if (!stillPending(listenerFd_, call_)) return;
    return fdChmodOf(fd, mode);
  }
  onePath(
      dirfdArg, pathArg, {requests::FS_OPEN.event, policy::Operation::FS_OPEN, InView::READ_ONLY},
      {{"mode", "write"}, {"chmod", _::octalMode(mode)}}, "mode changed",
      Outcome::CHANGED_AFTER_ADMISSION,
      [&](ParentDir& parent, audit::AuditRecord& rec, policy::Decision& decision, Acted& acted) {
        if (mode & ~static_cast<uint64_t>(_::SETTABLE_MODE_BITS)) {
          decision.verdict = policy::Verdict::DENY;  // the rule grants writes, never set-ID files
          decision.reason = _::SET_ID_REFUSED;
          return;
        }
        kj::AutoCloseFd file = _::pathFdOf(parent, acted.error);
        if (acted.error != 0) return acted.fail("chmod", acted.error);
        if (!admit(rec, decision, acted)) return;  // nothing changed
        std::string self = "/proc/self/fd/" + std::to_string(file.get());
        if (::chmod(self.c_str(), static_cast<mode_t>(mode)) != 0) acted.fail("chmod", errno);
      },
      [&](int&) { answerValue(0); });
}

void BrokeredCall::utimens(int dirfdArg, int pathArg, int timesArg, uint64_t flags) {
  struct timespec times[2];
  bool given = arg(timesArg) != 0;
  int error = 0;
  if (given && !readBytes(call_.pid, arg(timesArg), times, sizeof(times), error)) {
    return answerError(error);
  }
  if (arg(pathArg) == 0) {  // utimensat(fd, NULL, ...): futimens of a descriptor the program holds
    if (!stillPending(listenerFd_, call_)) return;
    return onDescriptor(dirfd(dirfdArg), {{"mode", "write"}, {"utimes", given ? "given" : "now"}},
                        "", "times changed", [&](int file, Acted& acted) {
                          if (::futimens(file, given ? times : nullptr) != 0) {
                            acted.fail("futimens", errno);
                          }
                        });
  }
  bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
  onePath(
      dirfdArg, pathArg, {requests::FS_OPEN.event, policy::Operation::FS_OPEN, InView::READ_ONLY},
      {{"mode", "write"}, {"utimes", given ? "given" : "now"}}, "times changed",
      Outcome::CHANGED_AFTER_ADMISSION,
      [&](ParentDir& parent, audit::AuditRecord& rec, policy::Decision& decision, Acted& acted) {
        struct stat st;
        if (fstatat(parent.fd.get(), parent.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          return acted.fail("fstatat", errno);
        }
        if (follow && S_ISLNK(st.st_mode)) return acted.fail("utimensat", ELOOP, _::NOT_FOLLOWED);
        if (!admit(rec, decision, acted)) return;  // nothing changed
        if (::utimensat(parent.fd.get(), parent.name.c_str(), given ? times : nullptr,
                        AT_SYMLINK_NOFOLLOW) != 0) {
          acted.fail("utimensat", errno);
        }
      },
      [&](int&) { answerValue(0); });
}

void BrokeredCall::truncate(int pathArg, int lengthArg) {
  auto length = static_cast<off_t>(arg(lengthArg));
  if (length < 0) return answerError(EINVAL);
  onePath(
      -1, pathArg, {requests::FS_OPEN.event, policy::Operation::FS_OPEN, InView::READ_ONLY},
      {{"mode", "write"}, {"length", length}}, "truncated", Outcome::CHANGED_AFTER_ADMISSION,
      [&](ParentDir& parent, audit::AuditRecord& rec, policy::Decision& decision, Acted& acted) {
        int fd = openat(parent.fd.get(), parent.name.c_str(),
                        O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) return acted.fail("openat", errno);
        kj::AutoCloseFd file(fd);
        struct stat st;
        if (fstat(file.get(), &st) != 0) return acted.fail("fstat", errno);
        if (!S_ISREG(st.st_mode)) return acted.fail("truncate", EINVAL);
        if (!admit(rec, decision, acted)) return;  // nothing changed
        if (ftruncate(file.get(), length) != 0) acted.fail("ftruncate", errno);
      },
      [&](int&) { answerValue(0); });
}

void BrokeredCall::fdChmod(int fdArg, uint64_t mode) { fdChmodOf(dirfd(fdArg), mode); }

void BrokeredCall::fdChmodOf(int fd, uint64_t mode) {
  mode &= _::CHMOD_MODE_BITS;
  bool setId = mode & ~static_cast<uint64_t>(_::SETTABLE_MODE_BITS);
  onDescriptor(fd, {{"mode", "write"}, {"chmod", _::octalMode(mode)}}, setId ? _::SET_ID_REFUSED : "",
               "mode changed", [&](int file, Acted& acted) {
                 if (::fchmod(file, static_cast<mode_t>(mode)) != 0) acted.fail("fchmod", errno);
               });
}

void BrokeredCall::refuseOwnerChange() { answerError(EPERM); }

template <typename Act>
void BrokeredCall::onDescriptor(int fd, nlohmann::ordered_json extraArgs,
                                const std::string& refusal, const char* result, Act&& act) {
  long copy = fd < 0 ? -1 : syscall(SYS_pidfd_getfd, pidfd_, fd, 0);
  if (copy < 0) return answerError(EBADF);
  kj::AutoCloseFd file(static_cast<int>(copy));
  std::string path = descriptorPath(file.get());
  bool beneathARoot = false;
  for (auto& root : broker_.brokeredRoots_) beneathARoot |= isAtOrBeneath(path, root);
  // Anything else the program holds (its own pipes, what the view let it open) is not the
  // broker's to change, and not the kernel's either: the host file behind it would change.
  if (path.empty() || !beneathARoot) return answerError(EPERM);
  ++broker_.brokered_;
  auto rec = record(requests::FS_OPEN.event.data(), path);
  rec.args.update(extraArgs);
  policy::Decision decision = decidePath({requests::FS_OPEN.event, policy::Operation::FS_OPEN}, path);
  if (decision.allowed() && !refusal.empty()) {
    decision.verdict = policy::Verdict::DENY;
    decision.reason = refusal;
  }
  Acted acted;
  if (decision.allowed()) {
    if (!recordAdmitted(broker_.audit_, rec, decision)) return answerError(EIO);  // not changed
    act(file.get(), acted);
  }
  conclude(rec, decision, acted.error, acted.failure, result, Outcome::CHANGED_AFTER_ADMISSION,
           [&]() { answerValue(0); });
}

}  // namespace airlock::broker::syscalls

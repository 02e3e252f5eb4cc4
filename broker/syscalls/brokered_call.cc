#include "broker/syscalls/brokered_call.h"

#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "broker/caps/call_scope.h"
#include "broker/caps/fs_request.h"
#include "broker/caps/open_beneath.h"
#include "broker/caps/worker_requests.h"
#include "broker/policy/model/path_pattern.h"
#include "broker/syscalls/brokered_call_steps.h"
#include "broker/syscalls/syscall_answer.h"
#include "broker/syscalls/worker_memory.h"
#include "sandbox/id_map.h"

namespace airlock::broker::syscalls {

namespace _ {

constexpr char VIA_SYSCALL[] = "syscall";

// The owner a brokered stat reports: as the sandbox's kernel shows it to the program (a passed
// descriptor's fstat), not the host's ids, under the ids this process's launches map.
sandbox::OwnerInside ownerInside(uid_t uid, gid_t gid) {
  static const sandbox::HostIds ids = sandbox::sandboxHostIds(geteuid(), getegid());
  return sandbox::ownerInside(uid, gid, ids);
}

policy::OpenModes modesOf(uint64_t flags) {
  policy::OpenModes modes;
  int access = static_cast<int>(flags & O_ACCMODE);
  if (access == O_RDONLY || access == O_RDWR || (flags & O_PATH)) modes.add(policy::OpenMode::READ);
  if (!(flags & O_PATH) && (access == O_WRONLY || access == O_RDWR)) {
    modes.add(policy::OpenMode::WRITE);
  }
  if (flags & O_CREAT) modes.add(policy::OpenMode::CREATE);
  if (flags & O_TRUNC) modes.add(policy::OpenMode::TRUNCATE);
  if (flags & O_APPEND) modes.add(policy::OpenMode::APPEND);
  return modes;
}

bool changes(policy::OpenModes modes) {
  return modes.has(policy::OpenMode::WRITE) || modes.has(policy::OpenMode::CREATE) ||
         modes.has(policy::OpenMode::TRUNCATE) || modes.has(policy::OpenMode::APPEND);
}

std::string failure(const char* call, int error) {
  return std::string(call) + ": " + errnoName(error) + ": " + strerror(error);
}

// O_PATH | O_NOFOLLOW of a final symlink names the link itself (glibc's fchmodat with
// AT_SYMLINK_NOFOLLOW opens one so, then answers EOPNOTSUPP for a link). The broker cannot pass
// such a descriptor (SECCOMP_IOCTL_NOTIF_ADDFD takes no O_PATH file), so the open is answered
// with the EOPNOTSUPP the caller would reach: a link's own mode cannot be changed.
constexpr char LINK_ITSELF[] =
    "EOPNOTSUPP: a descriptor of a symlink itself (O_PATH | O_NOFOLLOW) cannot be passed";

bool isFinalLink(int rootFd, const std::string& relative) {
  ParentDir parent = openParentBeneath(rootFd, relative);
  struct stat st;
  return parent.outcome.ok() &&
         fstatat(parent.fd.get(), parent.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISLNK(st.st_mode);
}

}  // namespace _

BrokeredCall::BrokeredCall(SyscallBroker& broker, int listenerFd, int pidfd,
                           const sandbox::RefusedSyscall& call, const char* name)
    : broker_(broker), listenerFd_(listenerFd), pidfd_(pidfd), call_(call), name_(name) {}

BrokeredCall::Placed BrokeredCall::place(int dirfdArg, int pathArg, std::string& out,
                                         InView inView) {
  std::string raw;
  int error = 0;
  if (!readPath(call_.pid, arg(pathArg), raw, error)) {
    answerError(error);
    return Placed::ANSWERED;
  }
  std::string base;
  if (!raw.empty() && raw[0] != '/') {
    base = startingDirectory(pidfd_, call_.pid, dirfdArg < 0 ? AT_FDCWD : dirfd(dirfdArg));
  }
  // Checked after every read: what was read belongs to this very call (not to a thread that
  // reused a dead one's id), and a thread already gone needs no answer.
  if (!stillPending(listenerFd_, call_)) return Placed::ANSWERED;
  // An empty path (AT_EMPTY_PATH) acts on a descriptor the process holds: the kernel's. A call
  // that changes the tree never names a descriptor so: ENOENT, as for an empty path.
  if (raw.empty()) {
    if (inView == InView::READ_ONLY) return answerError(ENOENT), Placed::ANSWERED;
    leftToKernel();
    return Placed::ANSWERED;
  }
  // Relative to something the broker cannot name by path (a socket, a deleted directory, a bad
  // fd): never left to the kernel, which would resolve it from wherever that fd points.
  if (raw[0] != '/' && base.empty()) {
    answerError(ENOENT);
    return Placed::ANSWERED;
  }
  out = absoluteNormal(base, raw);
  // What the sandbox binds stays the kernel's even beneath a rule's root: a rule on a file's
  // directory (an exact path's root is its parent) must not take the worker's own script, its
  // libraries or its read-only paths away from it, or it cannot start.
  bool bound = broker_.view_.binds(out);
  if (!bound) {
    for (auto& root : broker_.brokeredRoots_) {
      if (isAtOrBeneath(out, root)) return Placed::BROKER;
    }
  }
  if (bound || broker_.view_.shows(out)) {
    // The view is read-only; a call that changes metadata (chmod, utimes) is not one Landlock
    // decides, so it is answered here, never left to a kernel that would re-read the path.
    if (inView == InView::READ_ONLY) return answerError(EROFS), Placed::ANSWERED;
    leftToKernel();
    return Placed::ANSWERED;
  }
  return Placed::BROKER;  // outside the view and every rule: the rules refuse it, on record
}

audit::AuditRecord BrokeredCall::record(const char* event, const std::string& path) const {
  audit::AuditRecord r = baseRecord(event);
  r.args["path"] = path;
  return r;
}

audit::AuditRecord BrokeredCall::baseRecord(const char* event) const {
  audit::AuditRecord r;
  r.event = event;
  r.unit = broker_.unit_->name;
  r.workerPid = broker_.workerPid_;
  r.caller = broker_.caller_;
  r.callId = broker_.callId_;
  r.policyRev = broker_.unit_->revision;
  r.args["via"] = _::VIA_SYSCALL;
  r.args["syscall"] = name_;
  KJ_IF_MAYBE(serving, broker_.serving_) { (*serving)->tag(r); }
  return r;
}

bool BrokeredCall::finish(audit::AuditRecord& record, const policy::Decision& decision,
                          const std::string& result) {
  recordDecision(record, decision);
  record.result = result;
  return broker_.audit_.append(record);
}

void BrokeredCall::leftToKernel() {
  ++broker_.leftToKernel_;
  leaveToKernel(listenerFd_, call_);
}

void BrokeredCall::answerError(int error) { answer(listenerFd_, call_, error); }
void BrokeredCall::answerValue(int64_t value) { answer(listenerFd_, call_, 0, value); }

policy::Decision BrokeredCall::decidePath(const Ask& ask, const std::string& path) const {
  policy::Refusal refused = policy::validateRequestPath(path);
  if (refused.refuses()) return _::refusedByDefault(refused.why());
  switch (ask.op) {
    case policy::Operation::FS_OPEN: {
      policy::OpenModes write;
      write.add(policy::OpenMode::WRITE);
      return policy::decideFsOpen(*broker_.unit_, path, write);
    }
    case policy::Operation::FS_SYMLINK:
      return policy::decideFsSymlink(*broker_.unit_, path, ask.symlinkTarget);
    default: return policy::decideFsPath(*broker_.unit_, ask.op, path);
  }
}

kj::Maybe<ParentDir> BrokeredCall::parentFor(policy::Decision& decision, const std::string& path,
                                             int& error, std::string& failure) {
  const std::string& root = decision.rule->fs().path.root();
  int rootFd = broker_.roots_.find(root, failure);
  if (rootFd < 0) {
    error = ENOENT;
    return nullptr;
  }
  ParentDir parent = openParentBeneath(rootFd, relativeTo(root, path));
  if (parent.outcome.escapeRefused()) denyEscape(decision, parent.outcome.message);
  if (!parent.outcome.ok()) {
    error = parent.outcome.error;
    failure = parent.outcome.message;
    return nullptr;
  }
  return kj::mv(parent);
}

mode_t BrokeredCall::createdMode(uint64_t asked) const {
  return static_cast<mode_t>(asked & 0777) & ~threadUmask(call_.pid);
}

void BrokeredCall::open(int dirfdArg, int pathArg, uint64_t flags, uint64_t mode) {
  // Receive and place.
  std::string path;
  if (place(dirfdArg, pathArg, path) == Placed::ANSWERED) return;
  ++broker_.brokered_;
  policy::OpenModes modes = _::modesOf(flags);
  bool exclusive = (flags & O_EXCL) && (flags & O_CREAT);
  auto rec = record(requests::FS_OPEN.event.data(), path);
  rec.args["mode"] = modes.describe() + (exclusive ? ",exclusive" : "");
  // Read only for a create: the umask costs a read of /proc/TID/status.
  mode_t createMode = (flags & O_CREAT) ? createdMode(mode) : 0;
  if (flags & O_CREAT) rec.args["create_mode"] = _::octalMode(createMode);

  // Decide.
  policy::Decision decision = [&]() {
    if ((flags & O_TMPFILE) == O_TMPFILE) {
      return _::refusedByDefault("O_TMPFILE is not brokered: a named file is (fs.open create)");
    }
    policy::Refusal refused = policy::validateRequestPath(path);
    if (refused.refuses()) return _::refusedByDefault(refused.why());
    return policy::decideFsOpen(*broker_.unit_, path, modes);
  }();

  // Record before acting, for an open that may change the tree; act beneath the rule's root.
  OpenBeneathResult opened;
  if (decision.allowed()) {
    const std::string& root = decision.rule->fs().path.root();
    int rootFd = broker_.roots_.find(root, opened.message);
    if (rootFd < 0) {
      opened.error = ENOENT;
    } else if (_::changes(modes) && !recordAdmitted(broker_.audit_, rec, decision)) {
      answerError(EIO);  // nothing created, nothing opened
      return;
    } else {
      std::string relative = relativeTo(root, path);
      if ((flags & O_PATH) && (flags & O_NOFOLLOW) && _::isFinalLink(rootFd, relative)) {
        opened = OpenBeneathResult{kj::AutoCloseFd(), EOPNOTSUPP, _::LINK_ITSELF};
      } else {
        opened = openBeneath(rootFd, relative, modes,
                             exclusive ? Creation::EXCLUSIVE : Creation::MAY_EXIST, createMode);
        if (opened.escapeRefused()) denyEscape(decision, opened.message);
      }
    }
  }
  struct stat st;
  if (opened.ok() && (flags & O_DIRECTORY) && (fstat(opened.fd.get(), &st) != 0 || !S_ISDIR(st.st_mode))) {
    opened = OpenBeneathResult{kj::AutoCloseFd(), ENOTDIR, _::failure("open", ENOTDIR)};
  }
  // The status flags the program asked for, on the open file description it receives.
  if (opened.ok() && (flags & O_NONBLOCK)) {
    fcntl(opened.fd.get(), F_SETFL, fcntl(opened.fd.get(), F_GETFL) | O_NONBLOCK);
  }

  // Record; answer.
  int error = opened.ok() ? 0 : opened.error != 0 ? opened.error : EACCES;
  conclude(rec, decision, error, opened.message, "fd passed", Outcome::PASSED_ON_RECORD, [&]() {
    answerWithFd(listenerFd_, call_, opened.fd.get(), flags & O_CLOEXEC);
  });
}

void BrokeredCall::openat2(int dirfdArg, int pathArg, int howArg, int sizeArg) {
  struct open_how how;
  memset(&how, 0, sizeof(how));
  int error = 0;
  if (arg(sizeArg) < sizeof(how)) {
    answerError(EINVAL);
    return;
  }
  if (!readBytes(call_.pid, arg(howArg), &how, sizeof(how), error)) {
    answerError(error);
    return;
  }
  // RESOLVE_* only narrows what a path may name; the broker's own resolution is narrower still
  // (no symlink, no escape), so the call is answered as the equivalent openat.
  open(dirfdArg, pathArg, how.flags, how.mode);
}

void BrokeredCall::stat(int dirfdArg, int pathArg, int bufArg, bool follow) {
  struct stat st;
  memset(&st, 0, sizeof(st));
  onePath(
      dirfdArg, pathArg, {requests::FS_STAT.event, policy::Operation::FS_STAT}, {}, "stat passed",
      Outcome::PASSED_ON_RECORD,
      [&](ParentDir& parent, audit::AuditRecord&, policy::Decision&, Acted& acted) {
        if (fstatat(parent.fd.get(), parent.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          acted.fail("fstatat", errno);
        } else if (follow && S_ISLNK(st.st_mode)) {
          acted.fail("stat", ELOOP, _::NOT_FOLLOWED);
        } else {
          auto owner = _::ownerInside(st.st_uid, st.st_gid);
          st.st_uid = owner.uid;
          st.st_gid = owner.gid;
        }
      },
      [&](int& error) {
        if (!writeBytes(call_.pid, arg(bufArg), &st, sizeof(st), error)) return answerError(error);
        answerValue(0);
      });
}

void BrokeredCall::statx(int dirfdArg, int pathArg, int flagsArg, int maskArg, int bufArg) {
  struct statx stx;
  memset(&stx, 0, sizeof(stx));
  bool follow = !(arg(flagsArg) & AT_SYMLINK_NOFOLLOW);
  onePath(
      dirfdArg, pathArg, {requests::FS_STAT.event, policy::Operation::FS_STAT}, {}, "stat passed",
      Outcome::PASSED_ON_RECORD,
      [&](ParentDir& parent, audit::AuditRecord&, policy::Decision&, Acted& acted) {
        int flags = AT_SYMLINK_NOFOLLOW | static_cast<int>(arg(flagsArg) & AT_STATX_SYNC_TYPE);
        if (::statx(parent.fd.get(), parent.name.c_str(), flags,
                    static_cast<unsigned>(arg(maskArg)), &stx) != 0) {
          acted.fail("statx", errno);
        } else if (follow && S_ISLNK(stx.stx_mode)) {
          acted.fail("statx", ELOOP, _::NOT_FOLLOWED);
        } else {
          auto owner = _::ownerInside(stx.stx_uid, stx.stx_gid);
          stx.stx_uid = owner.uid;
          stx.stx_gid = owner.gid;
        }
      },
      [&](int& error) {
        if (!writeBytes(call_.pid, arg(bufArg), &stx, sizeof(stx), error)) {
          return answerError(error);
        }
        answerValue(0);
      });
}

void BrokeredCall::access(int dirfdArg, int pathArg, int modeArg) {
  uint64_t mode = arg(modeArg);
  std::string asked = std::string(mode & R_OK ? "r" : "") + (mode & W_OK ? "w" : "") +
                      (mode & X_OK ? "x" : "") + (mode == F_OK ? "exists" : "");
  onePath(
      dirfdArg, pathArg, {requests::FS_STAT.event, policy::Operation::FS_STAT}, {{"access", asked}},
      "access granted", Outcome::PASSED_ON_RECORD,
      [&](ParentDir& parent, audit::AuditRecord& rec, policy::Decision&, Acted& acted) {
        struct stat st;
        if (fstatat(parent.fd.get(), parent.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          return acted.fail("fstatat", errno);
        }
        // What the program may do through the broker, not what the broker's own uid may do.
        const std::string& path = rec.args["path"].get_ref<const std::string&>();
        auto opens = [&](policy::OpenMode m) {
          policy::OpenModes modes;
          modes.add(m);
          return policy::decideFsOpen(*broker_.unit_, path, modes).allowed();
        };
        bool ok = (!(mode & R_OK) || opens(policy::OpenMode::READ)) &&
                  (!(mode & W_OK) || opens(policy::OpenMode::WRITE)) &&
                  (!(mode & X_OK) || S_ISDIR(st.st_mode));
        if (!ok) acted.fail("access", EACCES, "EACCES: the rules do not grant that access");
      },
      [&](int&) { answerValue(0); });
}

void BrokeredCall::readlink(int dirfdArg, int pathArg, int bufArg, int sizeArg) {
  char target[PATH_MAX];
  ssize_t length = 0;
  onePath(
      dirfdArg, pathArg, {requests::FS_STAT.event, policy::Operation::FS_STAT}, {},
      "link target passed", Outcome::PASSED_ON_RECORD,
      [&](ParentDir& parent, audit::AuditRecord&, policy::Decision&, Acted& acted) {
        length = readlinkat(parent.fd.get(), parent.name.c_str(), target, sizeof(target));
        if (length < 0) acted.fail("readlinkat", errno);
      },
      [&](int& error) {
        size_t size = std::min<uint64_t>(arg(sizeArg), static_cast<uint64_t>(length));
        if (!writeBytes(call_.pid, arg(bufArg), target, size, error)) return answerError(error);
        answerValue(static_cast<int64_t>(size));
      });
}

void BrokeredCall::mkdir(int dirfdArg, int pathArg, uint64_t mode) {
  mode_t createMode = createdMode(mode);
  onePath(
      dirfdArg, pathArg, {requests::FS_MKDIR.event, policy::Operation::FS_MKDIR},
      {{"create_mode", _::octalMode(createMode)}}, "created",
      Outcome::CHANGED_AFTER_ADMISSION,
      [&](ParentDir& parent, audit::AuditRecord& rec, policy::Decision& decision, Acted& acted) {
        if (!admit(rec, decision, acted)) return;  // nothing made
        acted.take(mkdirAt(parent, createMode));
      },
      [&](int&) { answerValue(0); });
}

void BrokeredCall::unlink(int dirfdArg, int pathArg, uint64_t flags) {
  onePath(
      dirfdArg, pathArg, {requests::FS_UNLINK.event, policy::Operation::FS_UNLINK}, {}, "removed",
      Outcome::CHANGED_AFTER_ADMISSION,
      [&](ParentDir& parent, audit::AuditRecord& rec, policy::Decision& decision, Acted& acted) {
        struct stat st;
        bool wantsDirectory = flags & AT_REMOVEDIR;
        if (fstatat(parent.fd.get(), parent.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          return acted.fail("fstatat", errno);
        }
        if (wantsDirectory != S_ISDIR(st.st_mode)) {
          // unlink(2) of a directory and rmdir(2) of anything else, as the kernel answers them.
          return acted.fail(wantsDirectory ? "rmdir" : "unlink", wantsDirectory ? ENOTDIR : EISDIR);
        }
        if (!admit(rec, decision, acted)) return;  // nothing removed
        acted.take(unlinkAt(parent));
      },
      [&](int&) { answerValue(0); });
}

bool BrokeredCall::admit(const audit::AuditRecord& rec, const policy::Decision& decision,
                         Acted& acted) {
  if (recordAdmitted(broker_.audit_, rec, decision)) return true;
  acted.unrecorded = true;
  answerError(EIO);
  return false;
}

void BrokeredCall::Acted::fail(const char* call, int errorNumber, const char* message) {
  error = errorNumber;
  failure = message != nullptr ? std::string(message) : _::failure(call, errorNumber);
}

void BrokeredCall::Acted::take(const AtOutcome& outcome) {
  error = outcome.error;
  failure = outcome.message;
}

}  // namespace airlock::broker::syscalls

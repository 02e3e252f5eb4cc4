#pragma once
// One brokered syscall, from its notification to its answer: receive (copy the path from the
// thread) → place it (the sandbox's view: the kernel's; else the broker's) → decide by the
// unit's rules → record before acting where the call changes something → act beneath the rule's
// root → record → answer. Each public method is one kind of call; brokered_syscalls.cc maps
// every syscall to one of them with its argument positions.

#include <fcntl.h>

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <kj/common.h>

#include "audit/audit_log.h"
#include "broker/caps/at_beneath.h"
#include "broker/policy/decide/decide.h"
#include "broker/syscalls/syscall_broker.h"

namespace airlock::broker::syscalls {

// Whether the unit's net.connect rules allow some TCP connect / some Unix socket connect: only
// then are the program's own sockets of that family made and their connects brokered.
bool unitConnectsTcp(const policy::UnitPolicy& unit);
bool unitConnectsUnix(const policy::UnitPolicy& unit);

class BrokeredCall {
 public:
  BrokeredCall(SyscallBroker& broker, int listenerFd, int pidfd,
               const sandbox::RefusedSyscall& call, const char* name);

  uint64_t arg(int index) const { return call_.args[index]; }
  int dirfd(int index) const { return static_cast<int>(static_cast<int32_t>(call_.args[index])); }

  // Each answers the call. `dirfdArg` / `pathArg` are argument positions (dirfdArg -1: AT_FDCWD).
  // `mode`: the permission bits asked for a file O_CREAT makes (brokered_call.cc createdMode).
  void open(int dirfdArg, int pathArg, uint64_t flags, uint64_t mode);
  void openat2(int dirfdArg, int pathArg, int howArg, int sizeArg);
  void stat(int dirfdArg, int pathArg, int bufArg, bool follow);
  void statx(int dirfdArg, int pathArg, int flagsArg, int maskArg, int bufArg);
  void access(int dirfdArg, int pathArg, int modeArg);
  void readlink(int dirfdArg, int pathArg, int bufArg, int sizeArg);
  void mkdir(int dirfdArg, int pathArg, uint64_t mode);
  void unlink(int dirfdArg, int pathArg, uint64_t flags);
  // The calls that change names and metadata (brokered_changes.cc). A path in the sandbox's own
  // view is answered EROFS by the broker (the view is read-only), never left to the kernel.
  void rename(int fromDirArg, int fromPathArg, int toDirArg, int toPathArg, uint64_t flags);
  void symlink(int targetArg, int dirfdArg, int pathArg);
  void link(int fromDirArg, int fromPathArg, int toDirArg, int toPathArg);  // refused, on record
  // `flags`: fchmodat2's. A final symlink is never followed whatever they say; AT_EMPTY_PATH with
  // "" is the descriptor's own chmod (fdChmod).
  void chmod(int dirfdArg, int pathArg, uint64_t mode, uint64_t flags = 0);
  void utimens(int dirfdArg, int pathArg, int timesArg, uint64_t flags);  // NULL path: fd form
  void truncate(int pathArg, int lengthArg);
  void fdChmod(int fdArg, uint64_t mode);
  void refuseOwnerChange();  // EPERM, as the kernel answers a user who is not root
  // The sockets a program makes and connects itself (brokered_connect.cc).
  void socket(int domainArg, int typeArg);
  void connect(int fdArg, int addressArg, int lengthArg);

 private:
  enum class Placed { BROKER, ANSWERED };
  // What a path inside the sandbox's own view gets: the kernel (calls Landlock and the read-only
  // mounts decide), or EROFS from the broker (calls that change the tree or its metadata).
  enum class InView { KERNEL, READ_ONLY };
  // What a call on one path is decided and recorded as. FS_OPEN: an fs.open for writing (chmod,
  // utimes, truncate change what a write may change); FS_SYMLINK: with `symlinkTarget`.
  struct Ask {
    std::string_view event;
    policy::Operation op;
    InView inView = InView::KERNEL;
    std::string_view symlinkTarget = {};
  };
  // How a success is answered when its record cannot be written: a result not passed yet is
  // withheld (EIO); a change already made (admitted on record first) is answered as made.
  enum class Outcome { PASSED_ON_RECORD, CHANGED_AFTER_ADMISSION };
  // Copies the path and places it. BROKER: `out` is absolute and normal, and the broker decides
  // it (beneath a rule's root, or outside everything the sandbox shows: refused by the rules).
  // ANSWERED: left to the kernel, or failed as the syscall would (EFAULT, ENAMETOOLONG).
  Placed place(int dirfdArg, int pathArg, std::string& out, InView inView = InView::KERNEL);

  // What acting on a decided path came to: error 0, or the errno and a one-line message.
  struct Acted {
    int error = 0;
    std::string failure;
    bool unrecorded = false;  // the log refused the admission: answered EIO, nothing done
    void fail(const char* call, int errorNumber, const char* message = nullptr);
    void take(const AtOutcome& outcome);
  };

  // The calls on one path: receive and place it, decide it by `op`, and for an allowed
  // decision `act(parent, record, decision, acted)` on its parent beneath the rule's root; then
  // record and answer (`succeed(error)` answers a success; it may still fail writing back).
  template <typename Act, typename Succeed>
  void onePath(int dirfdArg, int pathArg, const Ask& ask, nlohmann::ordered_json extraArgs,
               const char* result, Outcome outcome, Act&& act, Succeed&& succeed);
  // Record before acting: false (and the call answered EIO) if the log refused it.
  bool admit(const audit::AuditRecord& record, const policy::Decision& decision, Acted& acted);

  audit::AuditRecord record(const char* event, const std::string& path) const;
  audit::AuditRecord baseRecord(const char* event) const;  // who, where from; no path
  // Writes `record` with `decision` and `result`; false if the log refused it.
  [[nodiscard]] bool finish(audit::AuditRecord& record, const policy::Decision& decision,
                            const std::string& result);
  template <typename Succeed>
  void conclude(audit::AuditRecord& record, const policy::Decision& decision, int error,
                const std::string& failure, const char* result, Outcome outcome,
                Succeed&& succeed);
  // The bits a file or directory created for the program gets: `asked` less the thread's umask,
  // and never set-id or sticky bits (the broker, not the program, owns what it makes).
  mode_t createdMode(uint64_t asked) const;
  void leftToKernel();  // answered by the kernel itself (syscall_answer.h), and counted
  void answerError(int error);
  void answerValue(int64_t value);
  // The parent of `path` beneath the allowed decision's root, for the calls that act on a last
  // component; null with `error` and `failure` set (an escape turns `decision` into a deny).
  kj::Maybe<ParentDir> parentFor(policy::Decision& decision, const std::string& path, int& error,
                                 std::string& failure);
  policy::Decision decidePath(const Ask& ask, const std::string& path) const;
  // The calls on two paths (rename, link): both placed and decided by the broker, or answered.
  bool placeTwo(int fromDirArg, int fromPathArg, int toDirArg, int toPathArg, std::string& from,
                std::string& to);
  // fchmod and futimens on the program's descriptor `fd`: a copy of it, if it names a file
  // beneath a root the rules name (else EPERM; EBADF for none), decided as an fs.open write of
  // that file's path (a non-empty `refusal` turns an allow into a deny saying so), admitted on
  // record, then `act(copy, acted)`; recorded and answered.
  template <typename Act>
  void onDescriptor(int fd, nlohmann::ordered_json extraArgs, const std::string& refusal,
                    const char* result, Act&& act);
  void fdChmodOf(int fd, uint64_t mode);

  SyscallBroker& broker_;
  int listenerFd_;
  int pidfd_;
  const sandbox::RefusedSyscall& call_;
  const char* name_;
};

}  // namespace airlock::broker::syscalls

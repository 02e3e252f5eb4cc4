#pragma once
// One run of the external anchor command (airlockd --anchor-command CMD): `/bin/sh -c CMD` with
// the given bytes (whole checkpoint lines) on its stdin, waited for until a deadline, then killed.
//
// One process per run, not a long-lived one: a run that hangs (an ssh whose peer went away) is
// ended by its deadline and the next run starts afresh, with no state to get out of step, and a
// command needs nothing more than `cat >> FILE` on the far side. Checkpoints come at most every
// --checkpoint-ms or --checkpoint-every records and AnchorDelivery batches those that arrive
// while a run is going, so the cost of a shell per run does not grow with the call rate.
//
// Threading: run() blocks for up to the deadline, so it is called from AnchorDelivery's thread,
// never the event loop. It does not allocate: airlockd clones sandboxed workers from its main
// thread while this runs, and posix_spawn (CLONE_VM|CLONE_VFORK: the child only execs) is what
// starts the command. Everything run() needs is prepared in the constructor.

#include <kj/io.h>
#include <spawn.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace airlock::audit {

struct AnchorOutcome {
  enum class Kind {
    DELIVERED,      // exited 0 after reading every byte offered
    EXITED,         // exited with a non-zero status (`status`)
    SIGNALLED,      // killed by signal `status`, not by us
    TIMED_OUT,      // still running at the deadline: killed with SIGKILL
    STDIN_CLOSED,   // exited 0, but closed its stdin before taking every byte
    SPAWN_FAILED,   // /bin/sh could not be started (`status` is the errno)
  };
  Kind kind = Kind::SPAWN_FAILED;
  int status = 0;
  uint64_t bytesOffered = 0;
  uint64_t bytesWritten = 0;  // into the command's stdin

  bool delivered() const { return kind == Kind::DELIVERED; }
};

// "exited with status 3", "killed by SIGKILL at the 10000 ms deadline", ... into `out` (no
// allocation; truncated to `size`). For the broker log and the anchor.failed record.
void describeAnchorOutcome(const AnchorOutcome& outcome, std::chrono::milliseconds deadline,
                           char* out, size_t size);

class AnchorCommand {
 public:
  // `command` is run by /bin/sh -c; each run must end within `deadline`.
  AnchorCommand(std::string command, std::chrono::milliseconds deadline);
  ~AnchorCommand();

  AnchorCommand(const AnchorCommand&) = delete;
  AnchorCommand& operator=(const AnchorCommand&) = delete;

  // Starts the command, writes `size` bytes of `bytes` to its stdin then closes it, and waits for
  // it to exit; at the deadline it is killed (SIGKILL through its pidfd) and reaped. Never leaves
  // a child or an fd behind. Only one run at a time (one calling thread).
  AnchorOutcome run(const char* bytes, size_t size);

  std::chrono::milliseconds deadline() const { return deadline_; }

 private:
  const std::string command_;
  const std::chrono::milliseconds deadline_;
  // The command's stdin is handed over at this fixed fd number (a /dev/null placeholder between
  // runs), so that the spawn file actions can be built once here instead of allocated per run.
  kj::AutoCloseFd devNull_;
  kj::AutoCloseFd stdinSlot_;
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attributes_;
  std::string argShell_ = "sh", argDashC_ = "-c";
  char* argv_[4];
};

}  // namespace airlock::audit

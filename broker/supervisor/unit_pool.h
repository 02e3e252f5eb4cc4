#pragma once
// The running workers of one unit: starts `instances` of them, hands a ready one to each call
// (round robin, within what the unit's worker_reuse allows), records every spawn and exit in the
// audit log, and replaces workers that exit as
// the unit's `restart` says, with back-off while they keep failing. A unit whose workers fail
// `crash_loop_limit` times within `crash_loop_window_ms`, or that `restart` leaves without any
// worker, is parked: out of service (calls fail fast) until a policy reload. Broker-side,
// event-loop thread only.

#include <kj/async-io.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "broker/policy/model/policy.h"
#include "broker/supervisor/program_run.h"
#include "broker/supervisor/worker_process.h"

namespace airlock::broker {

class UnitPool {
 public:
  // `unit` points into the policy set in force (broker/state/policy_set.h) and keeps it alive.
  // `clock` (for the time a unit was parked) and `unitLog` (where the workers' output goes) must
  // outlive the pool.
  // `roots` belongs to the same policy set, so it lives as long as `unit` does.
  // `groups` (borrowed, outlives the pool; null where no cgroup can be used) holds the unit's
  // [resources] group, which every worker gets a leaf beneath.
  UnitPool(std::shared_ptr<const policy::UnitPolicy> unit, const FsRoots& roots,
           kj::AsyncIoContext& io, audit::AuditLog& audit, const audit::WallClock& clock,
           UnitLog& unitLog, resources::ResourceGroups* groups = nullptr);
  ~UnitPool() noexcept(false);

  void start();
  // Applies [resources] (a limit the machine cannot enforce parks the unit, unless [sandbox]
  // resources = "best-effort"), then spawns every instance; failures are logged, audited and
  // retried.

  kj::Promise<kj::Maybe<WorkerProcess&>> acquire(std::string caller);
  // A worker that has answered hello, waiting for one that is starting. Null if no instance
  // could be started (see lastFailure()) or the unit is parked. `caller` is the call's caller as
  // audited ("client:web,uid:1000", "unit:front"); what worker_reuse says of it:
  //   "any":        any worker, whoever it served before (round robin).
  //   "per-caller": a worker bound to `caller`, else a fresh one, which is bound to it for its
  //                 life; if there is none, the least recently used idle worker bound to another
  //                 caller is replaced by a fresh one for `caller`; if every worker is busy with
  //                 other callers' calls, the call waits for one to finish.
  //   "never":      a fresh worker, taken out of its slot for this call alone; a replacement
  //                 starts in the slot once the call is answered (release()), ahead of the next
  //                 call; a call finding every slot waiting for one waits for it.
  // Every worker handed out must be given back with release() when its call ends.

  void release(pid_t pid);
  // The call on worker `pid` has ended (answered, failed or timed out). Under "never" the worker
  // is stopped now (SIGSTOP: it runs nothing more) and killed once the answer has had time to
  // leave (its exit's teardown is not on the answer's way), its worker.exit record saying it
  // served its one call; its replacement starts then, or as soon as a call needs the slot.

  kj::Promise<ProgramExit> runProgram(ProgramRequest request, kj::TimePoint deadline,
                                      bool& timedOut);
  // A [unit] program's run for one Unit.run call (program_run.h), killed at `deadline` (then
  // `timedOut`, which must outlive the promise, is set). Throws if the sandbox cannot be started;
  // a setup that fails later resolves with ProgramExit::setupFailed.

  void kill(pid_t pid, const std::string& why);
  // SIGKILLs the worker with this pid if it is still one of ours (never a recycled pid: the kill
  // goes through its pidfd) and, as `restart` says, replaces it. It counts as a failure; `why`
  // (e.g. "timed out") is the last exit reason a parking names.

  // Why and since when the unit is out of service. Calls are refused with ruleId (the policy key
  // that parked it, e.g. "unit.crash_loop_limit") and this reason.
  struct Parked {
    std::string ruleId;
    std::string reason;  // names the key's file:line, the failure count and the last exit
    std::string since;   // RFC 3339 UTC
  };
  const std::optional<Parked>& parked() const { return parked_; }

  const policy::UnitPolicy& unit() const { return *unit_; }
  const std::string& lastFailure() const { return lastFailure_; }

  void retireAll(std::string why);
  // This pool is out of service (its unit was removed or its workers changed by a reload): no
  // replacement is started from now on, and when the pool goes (after its last call in flight)
  // each worker still running is stopped and its exit audited with `why`.

  void adopt(std::shared_ptr<const policy::UnitPolicy> unit);
  // A reload whose new policy for this unit runs workers the same way (sameWorkers() in
  // broker/policy/review/unit_changes.h): the running workers carry on under it. A parked unit is
  // unparked (a reload is how an operator says the cause was fixed): its failures are forgotten
  // and its workers start again.

  // What `airlock status` shows of this pool.
  struct Status {
    std::vector<pid_t> pids;  // the instances serving or starting; 0 for an empty slot
    uint64_t restarts = 0;    // workers replaced after an exit or a kill since the pool started
    int64_t backoffMs = 0;    // longest wait before a pending replacement starts; 0: none
    std::optional<Parked> parked;
    std::optional<resources::GroupUsage> usage;  // of the unit's cgroup; none without one
  };
  Status status() const;

  uint64_t callsInFlight = 0;  // host calls dispatched to this unit and not yet answered

 private:
  struct Slot {
    kj::Maybe<kj::Own<WorkerProcess>> process;
    kj::Maybe<kj::ForkedPromise<void>> ready;
    int consecutiveFailures = 0;  // losses since the slot's worker last answered hello
    kj::Maybe<kj::TimePoint> respawnAt;  // a replacement is waiting out its back-off
    uint64_t respawnGeneration = 0;      // a back-off timer acts only if it is still the latest
    std::string boundTo;  // "per-caller": the caller its worker serves; empty: a fresh worker
    kj::TimePoint lastUsed = kj::origin<kj::TimePoint>();  // "per-caller": the least recent goes
    bool refillPending = false;  // "never": its worker serves a call; the replacement follows
    bool starting = false;       // a worker's sandbox is being set up for it (spawn)
    // The cgroup leaf its next worker starts in, made once its current worker has started: the
    // next start then only places the child in it (resources/resource_groups.h).
    kj::Own<resources::WorkerLeaf> spareLeaf;
    bool empty() const { return process == nullptr && !starting; }
  };

  void spawn(Slot& slot);
  // Starts a worker for the slot without holding the event loop while its sandbox is set up;
  // then one of these records its start (worker.spawn) and puts it in service or counts the loss.
  void started(Slot& slot, kj::Own<WorkerProcess> process);
  void failedToStart(Slot& slot, const kj::Exception& exception);
  kj::Own<resources::WorkerLeaf> takeLeaf(kj::Own<resources::WorkerLeaf>& spare);
  // The leaf a start uses: `spare` if one was made ahead, else one made now (throws, naming the
  // directory); null without a group.
  void makeSpareLeafLater(kj::Own<resources::WorkerLeaf>& spare);
  // Makes `spare` (owned by a slot or this pool) once the events queued now have run, so that
  // neither a start nor a call waiting for a worker waits for the mkdir. A failure is logged:
  // the next start then makes its own leaf, and fails if it still cannot.
  bool applyResources();
  // Writes the unit's [resources] to its group (made on first use). False once the unit is
  // parked because a required limit cannot be enforced; a best-effort one is logged and audited.
  void watchReadyDeadline(WorkerProcess& process);
  void recordLifecycle(const audit::AuditRecord& record);
  // An exit or a parking has happened whether or not the log takes its record: a refusal is
  // said in airlockd's log (calls fail closed on their own records meanwhile).
  // A worker that has not answered hello within its unit's call_timeout_ms is killed (its exit
  // recorded as "killed by airlockd: did not answer hello ...") and replaced as `restart` says:
  // a call waiting for it has timed out by then, and the next one must not wait on it too.
  void onExit(Slot& slot, pid_t pid, const sandbox::ExitStatus& status);
  // How a worker left: only a failure (crash, signal, non-zero status, failed start, killed by
  // airlockd) counts towards the crash loop and is replaced under restart = "on-failure".
  enum class Loss : uint8_t { FAILED, CLEAN_EXIT };
  void afterLoss(Slot& slot, Loss loss, const std::string& how);
  // The slot's worker is gone (`how`: its exit status, or why its start failed). Counts it,
  // then replaces it as `restart` says or parks the unit.
  void settle(Slot& slot, Loss loss, const std::string& how);  // afterLoss, once counted
  bool nextFailureParks() const;
  bool inService(Loss loss, const std::string& how);  // counts a failure; false once parked
  bool replaces(Loss loss) const;                      // what `restart` says
  void parkIfNoneLeft(Loss loss, const std::string& how);
  void respawnLater(Slot& slot);
  // The worker with this pid, in its slot or retired and not yet dropped.
  kj::Maybe<WorkerProcess&> processOf(Slot& slot, pid_t pid);
  void takeOut(Slot& slot);  // the slot's worker serves no more; its exit is still watched
  // worker_reuse: the slot acquire() hands `caller` a worker of, null if the call must wait for
  // a release; and what it does with the worker once ready (null: look again).
  Slot* slotFor(const std::string& caller);
  Slot* perCallerSlot(const std::string& caller);
  kj::Maybe<WorkerProcess&> handOut(Slot& slot, const std::string& caller);
  void retire(Slot& slot, std::string why);  // kills its worker, not a failure; a fresh one starts
  void refill(Slot& slot);  // "never": starts the slot's replacement if it is still pending
  void wakeWaiters();
  void dropRetired(pid_t pid);  // a worker out of its slot has exited: its object goes
  bool crashLoop(const std::string& how);  // counts a failure; parks the unit at the limit
  void park(std::string ruleId, std::string reason, const std::string& lastExit);
  void unpark(const std::string& why);

  std::shared_ptr<const policy::UnitPolicy> unit_;
  const FsRoots& roots_;
  kj::AsyncIoContext& io_;
  audit::AuditLog& audit_;
  const audit::WallClock& clock_;
  UnitLog& unitLog_;
  resources::ResourceGroups* groups_;
  kj::Own<resources::UnitGroup> group_;  // before slots_: the workers' leaves are beneath it
  kj::Own<resources::WorkerLeaf> spareRunLeaf_;  // a program unit's next run's leaf
  std::vector<kj::Own<Slot>> slots_;
  std::vector<kj::Own<WorkerProcess>> retired_;  // killed, exit not yet observed
  struct Killed {
    std::string why;
    bool deferred;      // kill() left the replace-or-park decision to the exit
    const char* cause;  // worker.exit's args.cause when the SIGKILL ends it: "deadline", ...
  };
  std::map<pid_t, Killed> killed_;  // retired by kill(): their exit is a failure
  std::map<pid_t, std::string> retiring_;  // killed by worker_reuse: why, for its worker.exit
  std::map<pid_t, std::string> boundTo_;   // "per-caller": each bound worker's caller, till its exit
  std::map<pid_t, uint64_t> busy_;         // "per-caller": calls each worker is serving
  std::map<pid_t, Slot*> servingFrom_;     // "never": the slot each worker serving a call left
  std::vector<kj::Own<kj::PromiseFulfiller<void>>> waiters_;  // calls waiting for a release
  size_t nextSlot_ = 0;
  uint64_t restarts_ = 0;
  uint64_t oomKills_ = 0;  // workers the kernel's OOM killer took since the pool started
  bool retiredAll_ = false;
  std::string stopReason_ = "airlockd is stopping";
  std::string lastFailure_;
  std::deque<kj::TimePoint> failures_;  // within the crash-loop window, oldest first
  uint64_t failuresSinceStart_ = 0;      // or since the last unparking
  std::optional<Parked> parked_;
  struct TaskErrors final : public kj::TaskSet::ErrorHandler {
    void taskFailed(kj::Exception&& exception) override;
  } taskErrors_;
  kj::TaskSet tasks_;  // after taskErrors_, which it uses
};

}  // namespace airlock::broker

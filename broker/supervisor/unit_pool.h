#pragma once
// The running workers of one unit: starts `instances` of them, hands a ready one to each call
// (round robin), records every spawn and exit in the audit log, and replaces workers that exit,
// with back-off while they keep failing. Broker-side, event-loop thread only.

#include <kj/async-io.h>

#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "broker/policy/policy.h"
#include "broker/supervisor/worker_process.h"

namespace airlock::broker {

class UnitPool {
 public:
  // `unit` points into the policy set in force (broker/reload/policy_set.h) and keeps it alive.
  UnitPool(std::shared_ptr<const policy::UnitPolicy> unit, kj::AsyncIoContext& io,
           audit::AuditLog& audit);
  ~UnitPool() noexcept(false);

  void start();  // spawns every instance; failures are logged, audited and retried

  kj::Promise<kj::Maybe<WorkerProcess&>> acquire();
  // A worker that has answered hello, waiting for one that is starting. Null if no instance
  // could be started (see lastFailure()).

  void kill(pid_t pid);
  // SIGKILLs the worker with this pid if it is still one of ours (never a recycled pid: the kill
  // goes through its pidfd). Its exit then replaces it.

  const policy::UnitPolicy& unit() const { return *unit_; }
  const std::string& lastFailure() const { return lastFailure_; }

  void retireAll(std::string why);
  // This pool is out of service (its unit was removed or its workers changed by a reload): no
  // replacement is started from now on, and when the pool goes (after its last call in flight)
  // each worker still running is stopped and its exit audited with `why`.

  void adopt(std::shared_ptr<const policy::UnitPolicy> unit);
  // A reload whose new policy for this unit runs workers the same way (sameWorkers() in
  // broker/policy/unit_changes.h): the running workers carry on under it.

  // What `airlock status` shows of this pool.
  struct Status {
    std::vector<pid_t> pids;  // the instances serving or starting; 0 for an empty slot
    uint64_t restarts = 0;    // workers replaced after an exit or a kill since the pool started
  };
  Status status() const;

  uint64_t callsInFlight = 0;  // host calls dispatched to this unit and not yet answered

 private:
  struct Slot {
    kj::Maybe<kj::Own<WorkerProcess>> process;
    kj::Maybe<kj::ForkedPromise<void>> ready;
    int consecutiveFailures = 0;
  };

  void spawn(Slot& slot);
  void onExit(Slot& slot, pid_t pid, const sandbox::ExitStatus& status);
  void respawnLater(Slot& slot);
  void retire(Slot& slot);  // takes the slot's worker out of service and starts a replacement

  std::shared_ptr<const policy::UnitPolicy> unit_;
  kj::AsyncIoContext& io_;
  audit::AuditLog& audit_;
  std::vector<kj::Own<Slot>> slots_;
  std::vector<kj::Own<WorkerProcess>> retired_;  // killed, exit not yet observed
  size_t nextSlot_ = 0;
  uint64_t restarts_ = 0;
  bool retiredAll_ = false;
  std::string stopReason_ = "airlockd is stopping";
  std::string lastFailure_;
  struct TaskErrors final : public kj::TaskSet::ErrorHandler {
    void taskFailed(kj::Exception&& exception) override;
  } taskErrors_;
  kj::TaskSet tasks_;  // after taskErrors_, which it uses
};

}  // namespace airlock::broker

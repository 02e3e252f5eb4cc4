#include "broker/supervisor/unit_pool.h"

#include <signal.h>

#include <cerrno>
#include <cstring>

#include <algorithm>

#include <kj/debug.h>
#include <spdlog/spdlog.h>

#include "sandbox/syscall_sets.h"

namespace airlock::broker {

namespace _ {

// Restart back-off: first retry after this, doubling per consecutive failure up to the cap, so a
// worker that dies at start-up cannot make the broker spin.
constexpr kj::Duration FIRST_RESPAWN_DELAY = 50 * kj::MILLISECONDS;
constexpr int MAX_BACKOFF_DOUBLINGS = 7;  // 50 ms * 2^7 = 6.4 s

// worker_reuse = "never": how long after a call ends its worker is killed (stopped meanwhile) and
// its slot's replacement starts, unless a call needs the replacement sooner. Long enough for the ended call's answer to leave airlockd (a few hundred
// microseconds; more on a busy machine), short beside calls that arrive slower than a worker
// starts (~10 ms).
constexpr kj::Duration REFILL_GRACE = 10 * kj::MILLISECONDS;

// worker_reuse = "never": a worker whose call has ended runs nothing more from now on, at the cost
// of a signal; its SIGKILL follows once the answer has left (release()). SIGSTOP, like SIGKILL,
// reaches a pid namespace's init from airlockd's namespace, and cannot be caught or ignored. By
// pid, not pidfd (the worker's pidfd is its SandboxedProcess's): `pid` is airlockd's own child,
// not yet reaped (the caller checks exited()), and only its parent's waitid can reap it, so the
// pid cannot have been reused.
void stopRunning(pid_t pid) {
  if (::kill(pid, SIGSTOP) < 0 && errno != ESRCH) {
    spdlog::warn("worker pid {}: kill(SIGSTOP) failed: {}", pid, strerror(errno));
  }
}

// Under on_refused_syscall = "errno": every refusal the worker's supervisor answered, counted by
// syscall, on its worker.exit record.
void addAnsweredSyscalls(audit::AuditRecord& record, const sandbox::ExitStatus& status) {
  if (!status.answeredSyscalls.empty()) record.args["answered_syscalls"] = status.answeredSyscalls;
  if (!status.learnedSyscalls.empty()) record.args["learned_syscalls"] = status.learnedSyscalls;
}

// worker.exit's args.cause: whether the worker ended by itself (exited, failed, crashed) or
// airlockd ended it, and why, so that an auditor counting crashes does not count the SIGKILL
// every worker gets when airlockd stops, reloads or enforces a deadline (docs/audit.md).
const char* exitCause(const sandbox::ExitStatus& status) {
  if (status.exited) return status.code == 0 ? "exited" : "failed";
  return "crashed";
}
// A kill(pid, why) whose why starts with one of these enforced a deadline: the call's
// (dispatch.cc: "timed out: ...") or hello's (watchReadyDeadline).
const char* killCause(const std::string& why) {
  for (const char* deadline : {"timed out", "did not answer hello"}) {
    if (why.rfind(deadline, 0) == 0) return "deadline";
  }
  return "killed";
}

}  // namespace _

void UnitPool::TaskErrors::taskFailed(kj::Exception&& exception) {
  spdlog::error("unit pool task failed: {}", exception.getDescription().cStr());
}

UnitPool::UnitPool(std::shared_ptr<const policy::UnitPolicy> unit, const FsRoots& roots,
                   kj::AsyncIoContext& io, audit::AuditLog& audit,
                   const audit::WallClock& clock, UnitLog& unitLog,
                   resources::ResourceGroups* groups)
    : unit_(kj::mv(unit)), roots_(roots), io_(io), audit_(audit), clock_(clock), unitLog_(unitLog),
      groups_(groups), tasks_(taskErrors_) {}

UnitPool::~UnitPool() noexcept(false) {
  // Exits nobody will watch any more: reaped and audited here, so every spawn has its exit.
  auto stop = [this](WorkerProcess& process) {
    if (process.exited()) return;
    pid_t pid = process.pid();
    auto status = process.stop();
    audit::AuditRecord record;
    record.event = "worker.exit";
    record.unit = unit_->name;
    record.workerPid = pid;
    record.result = status.describe();
    record.reason = stopReason_;
    process.tagServing(record);
    _::addAnsweredSyscalls(record, status);
    record.args["cause"] = retiredAll_ ? "reload" : "shutdown";
    recordLifecycle(record);
  };
  for (auto& slot : slots_) {
    KJ_IF_MAYBE(process, slot->process) { stop(**process); }
  }
  for (auto& process : retired_) stop(*process);
}

void UnitPool::retireAll(std::string why) {
  retiredAll_ = true;
  stopReason_ = kj::mv(why);
}

void UnitPool::start() {
  if (!unit_->programPath.empty()) {
    // A program runs once per call (runProgram), each run in a leaf of the unit's group.
    if (applyResources()) makeSpareLeafLater(spareRunLeaf_);
    return;
  }
  for (int i = 0; i < unit_->instances; ++i) slots_.push_back(kj::heap<Slot>());
  if (!applyResources()) return;  // parked: a reload that fixes it starts the workers
  for (auto& slot : slots_) spawn(*slot);
}

kj::Promise<ProgramExit> UnitPool::runProgram(ProgramRequest request, kj::TimePoint deadline,
                                              bool& timedOut) {
  auto leaf = takeLeaf(spareRunLeaf_);
  auto started = ProgramRun::start(unit_, roots_, io_, audit_, kj::mv(request), kj::mv(leaf));
  // A setup still going at the deadline is given up, its child killed before it ran anything.
  auto setupLate = io_.provider->getTimer().atTime(deadline).then(
      [&timedOut]() -> kj::Own<ProgramRun> {
        timedOut = true;
        KJ_FAIL_REQUIRE("sandbox setup did not finish within the call's deadline");
      });
  return started.exclusiveJoin(kj::mv(setupLate))
      .then(
          [this, deadline, &timedOut](kj::Own<ProgramRun> run) {
            makeSpareLeafLater(spareRunLeaf_);  // the next run's, while this one runs
            auto& program = *run;
            // Past the deadline the program is killed; its exit (by SIGKILL) still ends the run.
            auto killer = io_.provider->getTimer().atTime(deadline).then([&program, &timedOut]() {
              timedOut = true;
              program.kill();
            }).eagerlyEvaluate(nullptr);
            return program.whenDone()
                .then([this](ProgramExit exit) {
                  if (exit.status.outOfMemory) ++oomKills_;
                  return exit;
                })
                .attach(kj::mv(killer), kj::mv(run));
          },
          [](kj::Exception&& exception) -> kj::Promise<ProgramExit> {
            ProgramExit exit;
            exit.setupFailed = exception.getDescription().cStr();
            return kj::mv(exit);
          });
}

void UnitPool::spawn(Slot& slot) {
  // The child sets up while the loop serves every unit's calls; the slot is starting meanwhile,
  // and its worker.spawn record is written once the start has succeeded or failed.
  slot.starting = true;
  tasks_.add(kj::evalNow([&]() {
               return WorkerProcess::spawn(unit_, roots_, io_, unitLog_, audit_,
                                           takeLeaf(slot.spareLeaf));
             }).then([this, &slot](kj::Own<WorkerProcess> process) {
                      slot.starting = false;
                      started(slot, kj::mv(process));
                      wakeWaiters();  // calls that found every slot starting
                    },
                    [this, &slot](kj::Exception&& exception) {
                      slot.starting = false;
                      failedToStart(slot, exception);
                      wakeWaiters();
                    }));
}

void UnitPool::started(Slot& slot, kj::Own<WorkerProcess> process) {
  audit::AuditRecord record;
  record.event = "worker.spawn";
  record.unit = unit_->name;
  pid_t pid = process->pid();
  record.workerPid = pid;
  record.result = "started " + unit_->workerPath;
  if (!unit_->pythonScript.empty()) record.result += " " + unit_->pythonScript;
  // The sandbox it got, so a weakened one is on record: Landlock's ABI (0: none) and whether
  // the policy required it.
  bool required = unit_->landlock == policy::LayerStrictness::REQUIRED;
  record.args["landlock"] = required ? "required" : "best-effort";
  record.args["landlock_abi"] = process->landlockAbi();
  if (process->landlockAbi() == 0) {
    record.reason = "running without Landlock: the kernel offers none and [sandbox] landlock = "
                    "\"best-effort\" allows it (" + unit_->sandboxJustification + ")";
    spdlog::warn("unit {}: worker pid {} {}", unit_->name, pid, record.reason);
  }
  // A dangerous syscall group widens this worker's sandbox: on record with why, and said.
  auto dangerous = nlohmann::ordered_json::array();
  for (auto& name : unit_->syscalls) {
    KJ_IF_MAYBE(group, sandbox::findSyscallGroup(name.c_str())) {
      if (group->danger != nullptr) dangerous.push_back(name);
    }
  }
  if (!dangerous.empty()) {
    record.args["dangerous_groups"] = dangerous;
    std::string widened = "sandbox widened by [sandbox] syscalls " + dangerous.dump() + " (" +
                          unit_->sandboxJustification + ")";
    record.reason += (record.reason.empty() ? "" : "; ") + widened;
    spdlog::warn("unit {}: worker pid {} {}", unit_->name, pid, widened);
  }
  // Serving again resets the back-off.
  slot.ready = process->whenReady().then([&slot]() { slot.consecutiveFailures = 0; }).fork();
  // The slot's next worker gets its leaf now, ahead of its start, while this one loads and
  // answers hello (the loop waits for that anyway).
  makeSpareLeafLater(slot.spareLeaf);
  watchReadyDeadline(*process);
  tasks_.add(process->whenExited().then(
      [this, &slot, pid](sandbox::ExitStatus status) { onExit(slot, pid, status); }));
  slot.process = kj::mv(process);
  spdlog::info("unit {}: worker pid {} started", unit_->name, pid);
  // A worker whose start is not on record never serves a call.
  if (!audit_.append(record)) {
    spdlog::error("unit {}: cannot record the start of worker pid {}: the audit log refuses "
                  "records; stopping it", unit_->name, pid);
    kill(pid, "its start could not be recorded");
    return;
  }
  // Parked while it was setting up: it stops with the unit's other workers.
  if (parked_) {
    KJ_IF_MAYBE(running, slot.process) {
      (*running)->kill();
      killed_[pid] = Killed{"unit parked", false, "parked"};
    }
    takeOut(slot);
  }
}

void UnitPool::failedToStart(Slot& slot, const kj::Exception& exception) {
  audit::AuditRecord record;
  record.event = "worker.spawn";
  record.unit = unit_->name;
  lastFailure_ = exception.getDescription().cStr();
  record.result = "sandbox setup failed: " + lastFailure_;
  spdlog::error("unit {}: cannot start worker: {}", unit_->name, lastFailure_);
  slot.ready = nullptr;
  recordLifecycle(record);  // before a parking it may cause
  afterLoss(slot, Loss::FAILED, "sandbox setup failed: " + lastFailure_);
}

void UnitPool::recordLifecycle(const audit::AuditRecord& record) {
  if (audit_.append(record)) return;
  spdlog::error("unit {}: cannot record {} of worker pid {}: the audit log refuses records",
                unit_->name, record.event, record.workerPid);
}

void UnitPool::watchReadyDeadline(WorkerProcess& process) {
  pid_t pid = process.pid();
  int64_t limitMs = unit_->callTimeout.count();
  auto answered = process.whenReady().then([]() { return true; },
                                           [](kj::Exception&&) { return true; });  // died first
  auto late = io_.provider->getTimer().afterDelay(limitMs * kj::MILLISECONDS).then([]() {
    return false;
  });
  tasks_.add(answered.exclusiveJoin(kj::mv(late)).then([this, pid, limitMs](bool inTime) {
    if (inTime) return;
    spdlog::warn("unit {}: worker pid {} did not answer hello within call_timeout_ms {}; killing "
                 "it", unit_->name, pid, limitMs);
    kill(pid, "did not answer hello within call_timeout_ms " + std::to_string(limitMs));
  }));
}

void UnitPool::onExit(Slot& slot, pid_t pid, const sandbox::ExitStatus& status) {
  audit::AuditRecord record;
  record.event = "worker.exit";
  record.unit = unit_->name;
  record.workerPid = pid;
  record.result = status.describe();
  KJ_IF_MAYBE(process, processOf(slot, pid)) { process->tagServing(record); }
  _::addAnsweredSyscalls(record, status);
  auto killed = killed_.find(pid);
  // The kernel's OOM kill and the sandbox's kill for a refused syscall come first: airlockd's
  // own SIGKILL of a worker whose channel broke may have raced them, but the worker's own doing
  // is what ended it.
  bool killedByUs = !status.outOfMemory && !status.killedBySandbox() &&
                    killed != killed_.end() && !status.exited && status.signal == SIGKILL;
  if (killedByUs) record.reason = "killed by airlockd: " + killed->second.why;
  record.args["cause"] = killedByUs ? killed->second.cause : _::exitCause(status);
  if (status.outOfMemory) {
    ++oomKills_;
    record.reason = "out-of-memory";
    record.args["cause"] = "out-of-memory";
    record.args["memory_peak_bytes"] = status.memoryPeakBytes;
    record.args["memory_max_mib"] = unit_->resources.get(policy::ResourceKey::MEMORY_MAX_MIB);
  }
  auto bound = boundTo_.find(pid);
  if (bound != boundTo_.end()) {
    record.args["bound_to"] = bound->second;
    boundTo_.erase(bound);
  }
  busy_.erase(pid);
  auto retiring = retiring_.find(pid);
  bool retired = retiring != retiring_.end() && !killedByUs && !status.exited &&
                 status.signal == SIGKILL;
  if (retired) record.reason = "retired by airlockd: " + retiring->second;
  if (retiring != retiring_.end()) retiring_.erase(retiring);
  if (retired) record.args["cause"] = "retired";
  recordLifecycle(record);
  if (retired) {
    // worker_reuse replaced it on purpose: not a loss, and its slot has its replacement already.
    spdlog::info("unit {}: worker pid {} {}", unit_->name, pid, record.reason);
    dropRetired(pid);
    wakeWaiters();
    return;
  }
  wakeWaiters();  // a "per-caller" call waiting for a busy worker may take its replacement
  lastFailure_ = "worker pid " + std::to_string(pid) + " " +
                 (killedByUs ? record.reason : status.describe());
  spdlog::warn("unit {}: worker pid {} {}", unit_->name, pid, status.describe());

  bool stillInSlot = false;
  KJ_IF_MAYBE(process, slot.process) { stillInSlot = (*process)->pid() == pid; }
  if (stillInSlot) {
    takeOut(slot);
    bool clean = status.exited && status.code == 0;
    afterLoss(slot, clean ? Loss::CLEAN_EXIT : Loss::FAILED, status.describe());
  } else {
    if (killed != killed_.end()) {
      // Taken out by kill(); its exit says what the loss was: it may have exited by itself
      // (which is why its channel broke) before airlockd's SIGKILL.
      bool clean = status.exited && status.code == 0;
      bool byUs = !status.exited && status.signal == SIGKILL;
      std::string how = byUs ? "killed by airlockd: " + killed->second.why : status.describe();
      bool deferred = killed->second.deferred;
      killed_.erase(killed);
      Loss loss = clean ? Loss::CLEAN_EXIT : Loss::FAILED;
      if (inService(loss, how) && deferred && slot.empty()) settle(slot, loss, how);
    }
    dropRetired(pid);  // already replaced when it was killed; now it has exited
  }
}

void UnitPool::dropRetired(pid_t pid) {
  for (size_t i = 0; i < retired_.size(); ++i) {
    if (retired_[i]->pid() == pid) {
      auto dead = kj::mv(retired_[i]);
      retired_.erase(retired_.begin() + i);
      tasks_.add(kj::evalLater([dead = kj::mv(dead)]() mutable { dead = nullptr; }));
      break;
    }
  }
}

kj::Maybe<WorkerProcess&> UnitPool::processOf(Slot& slot, pid_t pid) {
  KJ_IF_MAYBE(process, slot.process) {
    if ((*process)->pid() == pid) return **process;
  }
  for (auto& process : retired_) {
    if (process->pid() == pid) return *process;
  }
  return nullptr;
}

void UnitPool::takeOut(Slot& slot) {
  KJ_IF_MAYBE(process, slot.process) {
    // Keep the object until its exit is observed (its exit watcher lives in it); nothing is
    // dispatched to it any more.
    retired_.push_back(kj::mv(*process));
    if (retired_.back()->exited()) {
      auto dead = kj::mv(retired_.back());
      retired_.pop_back();
      tasks_.add(kj::evalLater([dead = kj::mv(dead)]() mutable { dead = nullptr; }));
    }
  }
  slot.process = nullptr;
  slot.ready = nullptr;
  slot.boundTo.clear();  // a worker that starts in the slot is fresh
}

bool UnitPool::inService(Loss loss, const std::string& how) {
  if (retiredAll_ || parked_) return false;  // out of service: nothing to replace
  if (loss == Loss::CLEAN_EXIT) return true;
  ++failuresSinceStart_;
  return !crashLoop(how);
}

bool UnitPool::replaces(Loss loss) const {
  switch (unit_->restart.policy) {
    case policy::RestartPolicy::ALWAYS: return true;
    case policy::RestartPolicy::ON_FAILURE: return loss == Loss::FAILED;
    case policy::RestartPolicy::NEVER: return false;
  }
  return false;
}

void UnitPool::afterLoss(Slot& slot, Loss loss, const std::string& how) {
  if (inService(loss, how)) settle(slot, loss, how);
}

void UnitPool::settle(Slot& slot, Loss loss, const std::string& how) {
  if (!replaces(loss)) {
    parkIfNoneLeft(loss, how);
    return;
  }
  // Losses in a row (e.g. at start-up) back off, whatever the cause.
  slot.consecutiveFailures += 1;
  ++restarts_;
  respawnLater(slot);
}

void UnitPool::parkIfNoneLeft(Loss loss, const std::string& how) {
  for (auto& slot : slots_) {
    if (!slot->empty() || slot->respawnAt != nullptr) return;  // still serving or starting
  }
  const policy::RestartSettings& restart = unit_->restart;
  park("unit.restart",
       std::string("restart = \"") + policy::restartPolicyName(restart.policy) + "\" (" +
           restart.policyWhere.describe() + ") replaces no worker that " +
           (loss == Loss::FAILED ? "failed" : "exited cleanly") +
           ", and none is left; the last " + how,
       how);
}

bool UnitPool::nextFailureParks() const {
  const policy::RestartSettings& restart = unit_->restart;
  if (restart.crashLoopLimit == 0) return false;
  kj::TimePoint now = io_.provider->getTimer().now();
  kj::Duration window = restart.crashLoopWindow.count() * kj::MILLISECONDS;
  size_t recent = 0;
  for (kj::TimePoint at : failures_) recent += now - at <= window;
  return recent + 1 >= static_cast<size_t>(restart.crashLoopLimit);
}

bool UnitPool::crashLoop(const std::string& how) {
  const policy::RestartSettings& restart = unit_->restart;
  if (restart.crashLoopLimit == 0) return false;
  kj::TimePoint now = io_.provider->getTimer().now();
  failures_.push_back(now);
  kj::Duration window = restart.crashLoopWindow.count() * kj::MILLISECONDS;
  while (!failures_.empty() &&
         (now - failures_.front() > window ||
          failures_.size() > static_cast<size_t>(restart.crashLoopLimit))) {
    failures_.pop_front();
  }
  if (failures_.size() < static_cast<size_t>(restart.crashLoopLimit)) return false;
  park("unit.crash_loop_limit",
       std::to_string(failures_.size()) + " worker failures within " +
           std::to_string(restart.crashLoopWindow.count()) + " ms reached crash_loop_limit " +
           std::to_string(restart.crashLoopLimit) + " (" + restart.limitWhere.describe() +
           "); the last " + how,
       how);
  return true;
}

void UnitPool::park(std::string ruleId, std::string reason, const std::string& lastExit) {
  parked_ = Parked{kj::mv(ruleId), kj::mv(reason),
                   audit::AuditLog::formatTime(clock_.nowMicrosSinceEpoch())};
  audit::AuditRecord record;
  record.event = "unit.parked";
  record.unit = unit_->name;
  record.rule = parked_->ruleId;
  record.reason = parked_->reason;
  record.args["restart"] = policy::restartPolicyName(unit_->restart.policy);
  // A crash loop counts the failures within its window; otherwise all since the pool started.
  bool crashLoop = parked_->ruleId == "unit.crash_loop_limit";
  record.args["crashes"] = crashLoop ? failures_.size() : failuresSinceStart_;
  record.args["last_exit"] = lastExit;
  recordLifecycle(record);
  spdlog::error("unit {} parked: {}; calls to it are refused until a policy reload", unit_->name,
                parked_->reason);
  // The unit is out of service as a whole: the instances still running stop too.
  for (auto& slot : slots_) {
    KJ_IF_MAYBE(process, slot->process) {
      (*process)->kill();
      // Its exit is airlockd's doing, not one more crash (inService() is false from now on).
      killed_[(*process)->pid()] = Killed{"unit parked", false, "parked"};
    }
    takeOut(*slot);
    slot->respawnAt = nullptr;
    ++slot->respawnGeneration;  // a replacement waiting out its back-off is called off
    slot->spareLeaf = nullptr;  // out of service: it holds no group it does not use
  }
  spareRunLeaf_ = nullptr;
}

void UnitPool::unpark(const std::string& why) {
  if (!parked_) return;
  audit::AuditRecord record;
  record.event = "unit.unparked";
  record.unit = unit_->name;
  record.reason = why;
  record.args["parked_since"] = parked_->since;
  record.args["parked_rule"] = parked_->ruleId;
  recordLifecycle(record);
  spdlog::info("unit {} unparked: {}", unit_->name, why);
  parked_.reset();
  failures_.clear();
  failuresSinceStart_ = 0;
  for (auto& slot : slots_) {
    slot->consecutiveFailures = 0;
    if (slot->empty() && !parked_) spawn(*slot);  // a failed start may park again
  }
}

void UnitPool::respawnLater(Slot& slot) {
  if (slot.consecutiveFailures <= 1) {
    // First failure in a row: replace at once, so the next call finds a worker starting.
    spawn(slot);
    return;
  }
  int doublings = kj::min(slot.consecutiveFailures - 2, _::MAX_BACKOFF_DOUBLINGS);
  kj::Duration delay = _::FIRST_RESPAWN_DELAY * (1 << doublings);
  slot.respawnAt = io_.provider->getTimer().now() + delay;
  uint64_t generation = ++slot.respawnGeneration;
  tasks_.add(io_.provider->getTimer().afterDelay(delay).then([this, &slot, generation]() {
    if (generation != slot.respawnGeneration) return;  // parked (and unparked) meanwhile
    slot.respawnAt = nullptr;
    // Parked or retired meanwhile: the replacement is no longer wanted.
    if (slot.empty() && !parked_ && !retiredAll_) spawn(slot);
  }));
}

void UnitPool::kill(pid_t pid, const std::string& why) {
  for (auto& slot : slots_) {
    KJ_IF_MAYBE(process, slot->process) {
      if ((*process)->pid() == pid) {
        (*process)->kill();
        // Out of its slot now: the next call must not be handed the dying worker. The loss is
        // counted when the exit is seen (onExit), so that a parking names the real exit.
        takeOut(*slot);
        // Replaced now if any exit is replaced and this failure does not park the unit;
        // otherwise its exit decides: whether it was a failure at all (it may have exited
        // cleanly, which broke its channel), and no replacement starts only to be stopped.
        bool now = !retiredAll_ && !parked_ &&
                   unit_->restart.policy == policy::RestartPolicy::ALWAYS && !nextFailureParks();
        if (now) {
          slot->consecutiveFailures += 1;
          ++restarts_;
          respawnLater(*slot);
        }
        killed_[pid] = Killed{why, !now, _::killCause(why)};
        return;
      }
    }
  }
  // Under "never" a worker serving its call is out of its slot, replaced already: only killed.
  for (auto& process : retired_) {
    if (process->pid() == pid && !process->exited() && killed_.count(pid) == 0 &&
        retiring_.count(pid) == 0) {
      process->kill();
      killed_[pid] = Killed{why, false, _::killCause(why)};
      return;
    }
  }
}

void UnitPool::adopt(std::shared_ptr<const policy::UnitPolicy> unit) {
  KJ_REQUIRE(unit->name == unit_->name, "a pool adopts only its own unit's policy", unit->name);
  unit_ = kj::mv(unit);
  // The running workers are beneath the unit's group: new limits hold them at once.
  if (!applyResources()) return;
  unpark("policy reload");
}

kj::Own<resources::WorkerLeaf> UnitPool::takeLeaf(kj::Own<resources::WorkerLeaf>& spare) {
  if (spare.get() != nullptr) return kj::mv(spare);
  if (group_.get() == nullptr) return kj::Own<resources::WorkerLeaf>();
  return group_->newLeaf();
}

void UnitPool::makeSpareLeafLater(kj::Own<resources::WorkerLeaf>& spare) {
  if (group_.get() == nullptr) return;
  // evalLast: after the calls that waited for a worker to be ready have been dispatched.
  tasks_.add(kj::evalLast([this, &spare]() {
    if (group_.get() == nullptr || spare.get() != nullptr || parked_ || retiredAll_) return;
    KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() { spare = group_->newLeaf(); })) {
      spdlog::warn("unit {}: cannot make a cgroup leaf ahead of the next start: {}",
                   unit_->name, exception->getDescription().cStr());
    }
  }));
}

bool UnitPool::applyResources() {
  const policy::UnitPolicy& unit = *unit_;
  std::vector<std::string> refused;
  if (group_.get() == nullptr && groups_ != nullptr) {
    KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
      group_ = groups_->unitGroup(unit.name);
    })) {
      refused.push_back(std::string("cannot make the unit's cgroup: ") +
                        exception->getDescription().cStr());
    }
  }
  if (group_.get() != nullptr) {
    for (auto& line : group_->apply(unit.resources)) refused.push_back(line);
  } else if (unit.resources.any() && refused.empty()) {
    refused.push_back("no cgroup hierarchy is available to airlockd (run `airlock doctor`)");
  }
  if (refused.empty() || !unit.resources.any()) {
    for (auto& line : refused) spdlog::warn("unit {}: resources: {}", unit.name, line);
    return true;
  }
  std::string what;
  for (auto& line : refused) what += (what.empty() ? "" : "; ") + line;
  std::string where = unit.resourcesWhere.describe();
  if (unit.resourcesEnforcement == policy::LayerStrictness::BEST_EFFORT) {
    audit::AuditRecord record;
    record.event = "unit.resources";
    record.unit = unit.name;
    record.rule = "sandbox.resources";
    record.reason = "[resources] (" + where + ") not all enforced, allowed by [sandbox] resources "
                    "= \"best-effort\" (" + unit.sandboxJustification + "): " + what;
    record.result = "running weakened";
    recordLifecycle(record);
    spdlog::warn("unit {}: {}", unit.name, record.reason);
    return true;
  }
  park("unit.resources", "[resources] (" + where + ") cannot be enforced: " + what +
                             "; fix it, or accept it with [sandbox] resources = \"best-effort\" "
                             "and a justification",
       "not started");
  return false;
}

UnitPool::Status UnitPool::status() const {
  Status status;
  if (group_.get() != nullptr) {
    status.usage = group_->usage();
    // cgroup v1 counts an OOM kill in the worker's leaf only, and a leaf goes with its worker.
    status.usage->oomKills = oomKills_;
  }
  status.restarts = restarts_;
  status.parked = parked_;
  kj::TimePoint now = io_.provider->getTimer().now();
  for (auto& slot : slots_) {
    pid_t pid = 0;
    KJ_IF_MAYBE(process, slot->process) { pid = (*process)->pid(); }
    status.pids.push_back(pid);
    KJ_IF_MAYBE(at, slot->respawnAt) {
      if (*at > now) status.backoffMs = kj::max(status.backoffMs, (*at - now) / kj::MILLISECONDS);
    }
  }
  return status;
}

UnitPool::Slot* UnitPool::slotFor(const std::string& caller) {
  if (unit_->workerReuse.reuse == policy::WorkerReuse::PER_CALLER) return perCallerSlot(caller);
  // "any" and "never": round robin. Under "never" a slot's worker has served nobody yet: the one
  // that served a call was taken out of it.
  for (size_t tries = 0; tries < slots_.size(); ++tries) {
    Slot& slot = *slots_[nextSlot_];
    nextSlot_ = (nextSlot_ + 1) % slots_.size();
    if (slot.ready != nullptr && slot.process != nullptr) return &slot;
  }
  return nullptr;
}

UnitPool::Slot* UnitPool::perCallerSlot(const std::string& caller) {
  Slot* fresh = nullptr;
  Slot* idle = nullptr;  // bound to another caller and serving nothing: the least recently used
  // A worker whose sandbox is still being set up will be fresh (takeOut unbinds a slot): worth
  // waiting for, rather than taking an idle worker from the caller it is bound to. (One that is
  // set up but has not answered hello yet is `fresh` below: the call waits for its hello.)
  bool freshComing = false;
  for (auto& slot : slots_) {
    if (slot->starting) freshComing = true;
    KJ_IF_MAYBE(process, slot->process) {
      if (slot->ready == nullptr) continue;
      if (slot->boundTo == caller) return slot.get();
      if (slot->boundTo.empty()) {
        if (fresh == nullptr) fresh = slot.get();
      } else if (busy_.count((*process)->pid()) == 0 &&  // release() drops a count at 0
                 (idle == nullptr || slot->lastUsed < idle->lastUsed)) {
        idle = slot.get();
      }
    }
  }
  if (fresh != nullptr) return fresh;
  if (idle == nullptr || freshComing) return nullptr;  // look again when one starts or ends
  retire(*idle, "bound to " + idle->boundTo + "; replaced by a fresh worker for " + caller +
                    " (worker_reuse = \"per-caller\")");
  return idle->process == nullptr ? nullptr : idle;  // its replacement is starting (or failed to)
}

void UnitPool::retire(Slot& slot, std::string why) {
  KJ_IF_MAYBE(process, slot.process) {
    pid_t pid = (*process)->pid();
    spdlog::info("unit {}: worker pid {} retired: {}", unit_->name, pid, why);
    retiring_[pid] = kj::mv(why);
    (*process)->kill();
  }
  takeOut(slot);
  if (!retiredAll_ && !parked_) spawn(slot);
}

kj::Maybe<WorkerProcess&> UnitPool::handOut(Slot& slot, const std::string& caller) {
  KJ_IF_MAYBE(process, slot.process) {
    WorkerProcess& worker = **process;
    pid_t pid = worker.pid();
    switch (unit_->workerReuse.reuse) {
      case policy::WorkerReuse::ANY:
        return worker;
      case policy::WorkerReuse::PER_CALLER:
        if (!slot.boundTo.empty() && slot.boundTo != caller) return nullptr;  // taken meanwhile
        if (slot.boundTo.empty()) {
          slot.boundTo = caller;
          boundTo_[pid] = caller;
          spdlog::info("unit {}: worker pid {} bound to {}", unit_->name, pid, caller);
        }
        slot.lastUsed = io_.provider->getTimer().now();
        ++busy_[pid];
        return worker;
      case policy::WorkerReuse::NEVER:
        // Out of the slot for this call alone (takeOut keeps it alive in retired_ till its exit).
        // Its replacement starts once the call has been answered (release): starting a sandbox
        // holds this event loop until the child has exec'd, which must not delay this answer.
        takeOut(slot);
        slot.refillPending = true;
        servingFrom_[pid] = &slot;
        return worker;
    }
  }
  return nullptr;
}

kj::Promise<kj::Maybe<WorkerProcess&>> UnitPool::acquire(std::string caller) {
  if (parked_) return kj::Maybe<WorkerProcess&>(nullptr);
  Slot* chosen = slotFor(caller);
  if (chosen == nullptr) {
    // None running (failed starts, back-off); or under "per-caller" every running worker is
    // busy with another caller's calls, or under "never" every slot waits for its replacement:
    // then look again when one ends, exits or starts (the call's deadline bounds the wait).
    bool refilling = std::any_of(slots_.begin(), slots_.end(), [](const kj::Own<Slot>& slot) {
      return slot->refillPending || slot->starting;
    });
    if (busy_.empty() && !refilling) return kj::Maybe<WorkerProcess&>(nullptr);
    // "never": a replacement waiting for the previous answer to leave is needed now.
    for (auto& slot : slots_) refill(*slot);
    auto paf = kj::newPromiseAndFulfiller<void>();
    waiters_.push_back(kj::mv(paf.fulfiller));
    return paf.promise.then([this, caller = kj::mv(caller)]() mutable {
      return acquire(kj::mv(caller));
    });
  }
  Slot& slot = *chosen;
  KJ_IF_MAYBE(ready, slot.ready) {
    KJ_IF_MAYBE(process, slot.process) {
      WorkerProcess* expected = process->get();
      bool reuseAny = unit_->workerReuse.reuse == policy::WorkerReuse::ANY;
      return ready->addBranch().then(
          [this, &slot, expected, reuseAny,
           caller = kj::mv(caller)]() mutable -> kj::Promise<kj::Maybe<WorkerProcess&>> {
            KJ_IF_MAYBE(current, slot.process) {
              if (current->get() == expected) {
                KJ_IF_MAYBE(worker, handOut(slot, caller)) {
                  return kj::Maybe<WorkerProcess&>(*worker);
                }
              }
              // Under "never" or "per-caller" another call took it first: look again.
              if (!reuseAny) return acquire(kj::mv(caller));
            }
            return kj::Maybe<WorkerProcess&>(nullptr);  // it died while we waited
          },
          [](kj::Exception&&) -> kj::Promise<kj::Maybe<WorkerProcess&>> {
            return kj::Maybe<WorkerProcess&>(nullptr);
          });
    }
  }
  return kj::Maybe<WorkerProcess&>(nullptr);
}

void UnitPool::release(pid_t pid) {
  switch (unit_->workerReuse.reuse) {
    case policy::WorkerReuse::ANY:
      return;
    case policy::WorkerReuse::PER_CALLER: {
      auto busy = busy_.find(pid);
      if (busy != busy_.end() && --busy->second == 0) busy_.erase(busy);
      wakeWaiters();
      return;
    }
    case policy::WorkerReuse::NEVER: {
      // Killed already if it timed out or stopped answering: its exit says so instead.
      bool killedAlready = killed_.count(pid) != 0;
      for (auto& process : retired_) {
        if (process->pid() != pid || process->exited() || killedAlready) continue;
        retiring_[pid] = "served its one call (worker_reuse = \"never\")";
        _::stopRunning(pid);
        break;
      }
      Slot* slot = nullptr;
      auto serving = servingFrom_.find(pid);
      if (serving != servingFrom_.end()) {
        slot = serving->second;
        servingFrom_.erase(serving);
      }
      // Neither at once: the SIGKILL's exit (the process's teardown, then its exit record) and
      // the replacement's start (clone3 on this loop, then the child's setup) take CPU the ended
      // call's answer still needs on its way out. Once that answer has had time to leave, or, for
      // the replacement, as soon as a call needs the slot (acquire), whichever comes first.
      tasks_.add(io_.provider->getTimer().afterDelay(_::REFILL_GRACE).then([this, pid, slot]() {
        for (auto& process : retired_) {
          if (process->pid() == pid && retiring_.count(pid) != 0) process->kill();  // idempotent
        }
        if (slot != nullptr) refill(*slot);
      }));
      return;
    }
  }
}

void UnitPool::refill(Slot& slot) {
  if (!slot.refillPending) return;  // started already: by a call that needed it, or the timer
  slot.refillPending = false;
  bool wanted = slot.empty() && slot.respawnAt == nullptr && !parked_ && !retiredAll_;
  if (wanted) spawn(slot);
  wakeWaiters();  // calls that found every slot waiting for its replacement
}

void UnitPool::wakeWaiters() {
  auto waiters = kj::mv(waiters_);
  waiters_.clear();
  for (auto& waiter : waiters) waiter->fulfill();
}

}  // namespace airlock::broker

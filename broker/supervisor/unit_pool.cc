#include "broker/supervisor/unit_pool.h"

#include <kj/debug.h>
#include <spdlog/spdlog.h>

namespace airlock::broker {

namespace _ {

// Restart back-off: first retry after this, doubling per consecutive failure up to the cap, so a
// worker that dies at start-up cannot make the broker spin.
constexpr kj::Duration FIRST_RESPAWN_DELAY = 50 * kj::MILLISECONDS;
constexpr int MAX_BACKOFF_DOUBLINGS = 7;  // 50 ms * 2^7 = 6.4 s

}  // namespace _

void UnitPool::TaskErrors::taskFailed(kj::Exception&& exception) {
  spdlog::error("unit pool task failed: {}", exception.getDescription().cStr());
}

UnitPool::UnitPool(std::shared_ptr<const policy::UnitPolicy> unit, kj::AsyncIoContext& io,
                   audit::AuditLog& audit)
    : unit_(kj::mv(unit)), io_(io), audit_(audit), tasks_(taskErrors_) {}

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
    audit_.append(record);
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
  for (int i = 0; i < unit_->instances; ++i) {
    slots_.push_back(kj::heap<Slot>());
    spawn(*slots_.back());
  }
}

void UnitPool::spawn(Slot& slot) {
  audit::AuditRecord record;
  record.event = "worker.spawn";
  record.unit = unit_->name;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    auto process = WorkerProcess::spawn(*unit_, io_);
    pid_t pid = process->pid();
    record.workerPid = pid;
    record.result = "started " + unit_->workerPath;
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
    // Serving again resets the back-off.
    slot.ready = process->whenReady().then([&slot]() { slot.consecutiveFailures = 0; }).fork();
    tasks_.add(process->whenExited().then(
        [this, &slot, pid](sandbox::ExitStatus status) { onExit(slot, pid, status); }));
    slot.process = kj::mv(process);
    spdlog::info("unit {}: worker pid {} started", unit_->name, pid);
  })) {
    lastFailure_ = exception->getDescription().cStr();
    record.result = "sandbox setup failed: " + lastFailure_;
    spdlog::error("unit {}: cannot start worker: {}", unit_->name, lastFailure_);
    slot.ready = nullptr;
    ++slot.consecutiveFailures;
    respawnLater(slot);
  }
  audit_.append(record);
}

void UnitPool::onExit(Slot& slot, pid_t pid, const sandbox::ExitStatus& status) {
  audit::AuditRecord record;
  record.event = "worker.exit";
  record.unit = unit_->name;
  record.workerPid = pid;
  record.result = status.describe();
  audit_.append(record);
  lastFailure_ = "worker pid " + std::to_string(pid) + " " + status.describe();
  spdlog::warn("unit {}: worker pid {} {}", unit_->name, pid, status.describe());

  bool stillInSlot = false;
  KJ_IF_MAYBE(process, slot.process) { stillInSlot = (*process)->pid() == pid; }
  if (stillInSlot) {
    retire(slot);
  } else {
    // Already replaced when it was killed; now it has exited, drop it.
    for (size_t i = 0; i < retired_.size(); ++i) {
      if (retired_[i]->pid() == pid) {
        auto dead = kj::mv(retired_[i]);
        retired_.erase(retired_.begin() + i);
        tasks_.add(kj::evalLater([dead = kj::mv(dead)]() mutable { dead = nullptr; }));
        break;
      }
    }
  }
}

void UnitPool::retire(Slot& slot) {
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
  ++restarts_;
  // A crash while serving is one failure; failures in a row (e.g. at start-up) back off.
  slot.consecutiveFailures += 1;
  respawnLater(slot);
}

void UnitPool::respawnLater(Slot& slot) {
  if (retiredAll_) return;  // out of service: its successor pool serves the unit
  if (slot.consecutiveFailures <= 1) {
    // First failure in a row: replace at once, so the next call finds a worker starting.
    spawn(slot);
    return;
  }
  int doublings = kj::min(slot.consecutiveFailures - 2, _::MAX_BACKOFF_DOUBLINGS);
  kj::Duration delay = _::FIRST_RESPAWN_DELAY * (1 << doublings);
  tasks_.add(io_.provider->getTimer().afterDelay(delay).then([this, &slot]() {
    if (slot.process == nullptr) spawn(slot);
  }));
}

void UnitPool::kill(pid_t pid) {
  for (auto& slot : slots_) {
    KJ_IF_MAYBE(process, slot->process) {
      if ((*process)->pid() == pid) {
        (*process)->kill();
        retire(*slot);  // replaced now: the next call must not be handed the dying worker
        return;
      }
    }
  }
}

void UnitPool::adopt(std::shared_ptr<const policy::UnitPolicy> unit) {
  KJ_REQUIRE(unit->name == unit_->name, "a pool adopts only its own unit's policy", unit->name);
  unit_ = kj::mv(unit);
}

UnitPool::Status UnitPool::status() const {
  Status status;
  status.restarts = restarts_;
  for (auto& slot : slots_) {
    pid_t pid = 0;
    KJ_IF_MAYBE(process, slot->process) { pid = (*process)->pid(); }
    status.pids.push_back(pid);
  }
  return status;
}

kj::Promise<kj::Maybe<WorkerProcess&>> UnitPool::acquire() {
  for (size_t tries = 0; tries < slots_.size(); ++tries) {
    Slot& slot = *slots_[nextSlot_];
    nextSlot_ = (nextSlot_ + 1) % slots_.size();
    KJ_IF_MAYBE(ready, slot.ready) {
      KJ_IF_MAYBE(process, slot.process) {
        WorkerProcess* expected = process->get();
        return ready->addBranch().then(
            [&slot, expected]() -> kj::Maybe<WorkerProcess&> {
              KJ_IF_MAYBE(current, slot.process) {
                if (current->get() == expected) return **current;
              }
              return nullptr;  // it died while we waited
            },
            [](kj::Exception&&) -> kj::Maybe<WorkerProcess&> { return nullptr; });
      }
    }
  }
  return kj::Maybe<WorkerProcess&>(nullptr);
}

}  // namespace airlock::broker

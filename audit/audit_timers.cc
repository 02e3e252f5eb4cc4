#include "audit/audit_timers.h"

#include <kj/debug.h>

namespace airlock::audit {

AuditTimers::AuditTimers(AuditLog& log, kj::Timer& timer, kj::Duration syncWindow,
                         kj::Duration checkpointInterval)
    : log_(log),
      timer_(timer),
      syncWindow_(syncWindow),
      checkpointInterval_(checkpointInterval),
      tasks_(*this) {
  log_.setListener(this);
}

AuditTimers::~AuditTimers() noexcept(false) { log_.setListener(nullptr); }

void AuditTimers::appended() {
  if (log_.syncMode() == SyncMode::GROUP && !log_.commitsInBackground() && log_.dirty() &&
      !syncArmed_) {
    syncArmed_ = true;
    tasks_.add(timer_.afterDelay(syncWindow_).then([this]() {
      syncArmed_ = false;
      log_.sync();  // a failure puts the log in its failed state, which refuses every call
    }));
  }
  if (log_.signs() && log_.recordsSinceCheckpoint() > 0 && !checkpointArmed_) {
    checkpointArmed_ = true;
    tasks_.add(timer_.afterDelay(checkpointInterval_).then([this]() {
      checkpointArmed_ = false;
      log_.checkpoint();
    }));
  }
}

void AuditTimers::taskFailed(kj::Exception&& exception) {
  KJ_LOG(ERROR, "audit timer task failed", exception);
}

}  // namespace airlock::audit

#pragma once
// The audit log's clock-driven work on the broker's event loop: group commit (fdatasync at most
// one sync window after the first unsynced record) and time-based checkpoints (a signed
// checkpoint at most one checkpoint interval after the first uncovered record).
//
// Timers are armed only while there is work, so an idle broker is not woken. Runs on the same
// single event-loop thread as every AuditLog call: no locking, no flusher thread. (fdatasync
// therefore runs on the loop; at ~140 µs per sync window of 5 ms that is < 3% of one core.)
// Construct after the AuditLog and the kj event loop, destroy before either; the destructor
// detaches from the log and cancels pending timers.

#include <kj/async.h>
#include <kj/timer.h>

#include "audit/audit_log.h"

namespace airlock::audit {

class AuditTimers final : public AppendListener, private kj::TaskSet::ErrorHandler {
 public:
  // Borrows `log` and `timer` for its whole life.
  AuditTimers(AuditLog& log, kj::Timer& timer, kj::Duration syncWindow,
              kj::Duration checkpointInterval);
  ~AuditTimers() noexcept(false);

  void appended() override;

 private:
  void taskFailed(kj::Exception&& exception) override;

  AuditLog& log_;
  kj::Timer& timer_;
  kj::Duration syncWindow_, checkpointInterval_;
  bool syncArmed_ = false, checkpointArmed_ = false;
  kj::TaskSet tasks_;
};

}  // namespace airlock::audit

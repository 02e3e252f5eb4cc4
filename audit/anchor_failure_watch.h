#pragma once
// The event-loop side of the anchor command: when its delivery thread reports failed runs
// (anchor_delivery.h, through an eventfd), the audit log records them as `anchor.failed`.
//
// Threading: constructed, run and destroyed on the broker's event-loop thread, after the AuditLog
// and the event port and destroyed before either.

#include <kj/async-unix.h>
#include <kj/async.h>

#include "audit/audit_log.h"

namespace airlock::audit {

class AnchorFailureWatch final : private kj::TaskSet::ErrorHandler {
 public:
  // Borrows both for its whole life. Does nothing if `log` has no anchor command.
  AnchorFailureWatch(AuditLog& log, kj::UnixEventPort& eventPort);

 private:
  kj::Promise<void> watch(kj::UnixEventPort::FdObserver& observer);
  void taskFailed(kj::Exception&& exception) override;

  AuditLog& log_;
  kj::Maybe<kj::Own<kj::UnixEventPort::FdObserver>> observer_;
  kj::TaskSet tasks_;  // last: its task uses observer_
};

}  // namespace airlock::audit

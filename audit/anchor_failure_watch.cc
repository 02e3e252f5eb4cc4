#include "audit/anchor_failure_watch.h"

#include <kj/debug.h>

namespace airlock::audit {

AnchorFailureWatch::AnchorFailureWatch(AuditLog& log, kj::UnixEventPort& eventPort)
    : log_(log), tasks_(*this) {
  KJ_IF_MAYBE(fd, log_.anchorFailuresFd()) {
    auto observer = kj::heap<kj::UnixEventPort::FdObserver>(
        eventPort, *fd, kj::UnixEventPort::FdObserver::OBSERVE_READ);
    tasks_.add(watch(*observer));
    observer_ = kj::mv(observer);
  }
}

kj::Promise<void> AnchorFailureWatch::watch(kj::UnixEventPort::FdObserver& observer) {
  return observer.whenBecomesReadable().then([this, &observer]() {
    log_.recordAnchorFailures();  // drains the eventfd, so the next report is a new edge
    return watch(observer);
  });
}

void AnchorFailureWatch::taskFailed(kj::Exception&& exception) {
  KJ_LOG(ERROR, "recording the anchor command's failures failed", exception);
}

}  // namespace airlock::audit

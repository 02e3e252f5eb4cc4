#include "audit/group_commit.h"

#include <unistd.h>

#include <cerrno>

namespace airlock::audit {

GroupCommitThread::GroupCommitThread(int logFd, int anchorFd, std::chrono::microseconds window,
                                     AuditObserver* observer)
    : logFd_(logFd), anchorFd_(anchorFd), window_(window), observer_(observer),
      thread_([this]() { run(); }) {}

GroupCommitThread::~GroupCommitThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void GroupCommitThread::markDirty() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (dirty_) return;  // a sync is already due; it will cover this record too
    dirty_ = true;
  }
  wake_.notify_one();
}

void GroupCommitThread::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this]() { return dirty_ || stopping_; });
    if (dirty_ && !stopping_) {
      // Let the window fill: every record written until then shares this fdatasync.
      wake_.wait_for(lock, window_, [this]() { return stopping_; });
    }
    bool pending = dirty_;
    dirty_ = false;
    bool stop = stopping_;
    lock.unlock();
    if (pending) syncNow();
    if (stop) return;
    lock.lock();
  }
}

void GroupCommitThread::syncNow() {
  auto start = std::chrono::steady_clock::now();
  int synced = fdatasync(logFd_);
  int error = errno;
  if (observer_ != nullptr) observer_->synced(std::chrono::steady_clock::now() - start, synced == 0);
  errno = error;
  if (synced != 0) {
    int expected = 0;
    failedErrno_.compare_exchange_strong(expected, errno, std::memory_order_release);
    return;
  }
  if (anchorFd_ >= 0) fdatasync(anchorFd_);  // best effort: the log is the record of truth
  syncs_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace airlock::audit

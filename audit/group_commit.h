#pragma once
// Group commit off the event loop: a thread that fdatasyncs the audit log (and its anchor) at
// most one sync window after the first record not yet on disk.
//
// Why a thread: fdatasync costs ~160 us on average on this kind of VM disk and up to several ms
// at times; on the broker's single event loop that stall would land on whichever calls happen to
// be in flight. Records still reach the file (page cache) on the loop, before their answers
// leave; only the wait for the disk moves here.
//
// Threading: markDirty() and failedErrno() are called from the event-loop thread; the thread
// itself only calls fdatasync on the borrowed fds and touches the members below under mutex_ or
// as atomics. The fds must outlive this object (AuditLog owns both).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "audit/audit_observer.h"

namespace airlock::audit {

class GroupCommitThread {
 public:
  // `anchorFd` is -1 when there is no anchor file. `observer` (null: none) is told of each
  // fdatasync of the log, from this object's thread.
  GroupCommitThread(int logFd, int anchorFd, std::chrono::microseconds window,
                    AuditObserver* observer = nullptr);
  ~GroupCommitThread();  // syncs what is pending, then joins

  GroupCommitThread(const GroupCommitThread&) = delete;
  GroupCommitThread& operator=(const GroupCommitThread&) = delete;

  void markDirty();  // a record was written: make it durable within the window
  int failedErrno() const { return failedErrno_.load(std::memory_order_acquire); }
  // 0, or the errno of a failed fdatasync of the log: the caller must stop answering.

  uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }

 private:
  void run();
  void syncNow();

  const int logFd_, anchorFd_;
  const std::chrono::microseconds window_;
  AuditObserver* const observer_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool dirty_ = false;     // under mutex_
  bool stopping_ = false;  // under mutex_
  std::atomic<int> failedErrno_{0};
  std::atomic<uint64_t> syncs_{0};
  std::thread thread_;     // last: started once everything above is initialised
};

}  // namespace airlock::audit

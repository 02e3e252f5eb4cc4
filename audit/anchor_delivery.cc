#include "audit/anchor_delivery.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <kj/debug.h>

#include <cstdlib>
#include <cstring>

namespace airlock::audit {

namespace _ {

// The seq of a checkpoint line starting at `line`: airlockd writes `{"seq":N,` first.
uint64_t seqOfLine(const char* line) {
  constexpr char PREFIX[] = "{\"seq\":";
  if (strncmp(line, PREFIX, sizeof(PREFIX) - 1) != 0) return 0;
  return strtoull(line + sizeof(PREFIX) - 1, nullptr, 10);
}

// Erases whole lines from the front of `lines` until at most `limit` bytes are left; returns how
// many. Erasing never allocates.
uint64_t dropOldestLines(std::string& lines, size_t limit) {
  uint64_t dropped = 0;
  while (lines.size() > limit) {
    auto newline = lines.find('\n');
    lines.erase(0, newline == std::string::npos ? lines.size() : newline + 1);
    ++dropped;
  }
  return dropped;
}

}  // namespace _

AnchorDelivery::AnchorDelivery(std::string command, std::chrono::milliseconds deadline)
    : command_(kj::mv(command), deadline) {
  int fd;
  KJ_SYSCALL(fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "the anchor command's failure eventfd");
  failuresReady_ = kj::AutoCloseFd(fd);
  undelivered_.reserve(MAX_UNDELIVERED_BYTES);
  // A thread inherits its creator's signal mask: block everything for it, then restore ours.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  thread_ = std::thread([this]() { run(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

AnchorDelivery::~AnchorDelivery() { finish(); }

void AnchorDelivery::finish() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void AnchorDelivery::submit(const std::string& checkpointLine) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_ += checkpointLine;
    pending_ += '\n';
    dropped_ += _::dropOldestLines(pending_, MAX_UNDELIVERED_BYTES);
  }
  wake_.notify_one();
}

std::vector<AnchorFailure> AnchorDelivery::takeFailures() {
  uint64_t count;
  (void)!read(failuresReady_.get(), &count, sizeof(count));  // EAGAIN when nothing was signalled
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<AnchorFailure> taken(failures_.begin(), failures_.begin() + failureCount_);
  failureCount_ = 0;
  return taken;
}

void AnchorDelivery::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this]() { return !pending_.empty() || stopping_; });
    // Stopping with nothing new: what failed before has had its run.
    if (pending_.empty()) return;
    takePending();
    lock.unlock();
    AnchorOutcome outcome = command_.run(undelivered_.data(), undelivered_.size());
    lock.lock();
    if (outcome.delivered()) {
      undelivered_.clear();  // keeps its capacity
    } else {
      report(outcome);
    }
  }
}

void AnchorDelivery::takePending() {
  if (undelivered_.size() + pending_.size() > MAX_UNDELIVERED_BYTES) {
    size_t room = pending_.size() >= MAX_UNDELIVERED_BYTES
                      ? 0 : MAX_UNDELIVERED_BYTES - pending_.size();
    dropped_ += _::dropOldestLines(undelivered_, room);
  }
  undelivered_.append(pending_);  // fits the reserved capacity: no allocation
  pending_.clear();
}

void AnchorDelivery::report(const AnchorOutcome& outcome) {
  AnchorFailure failure;
  failure.outcome = outcome;
  failure.droppedCheckpoints = dropped_;
  dropped_ = 0;
  if (!undelivered_.empty()) {
    failure.firstSeq = _::seqOfLine(undelivered_.data());
    auto lastStart = undelivered_.rfind('\n', undelivered_.size() - 2);
    failure.lastSeq = _::seqOfLine(undelivered_.data() + (lastStart == std::string::npos ? 0 : lastStart + 1));
    for (char c : undelivered_) failure.checkpoints += c == '\n';
  }
  if (failureCount_ == failures_.size()) {
    std::move(failures_.begin() + 1, failures_.end(), failures_.begin());
    --failureCount_;
  }
  failures_[failureCount_++] = failure;
  uint64_t one = 1;
  (void)!write(failuresReady_.get(), &one, sizeof(one));
}

}  // namespace airlock::audit

#pragma once
// Delivery of checkpoints to the external anchor command (--anchor-command), off the event loop:
// a thread that runs the command (anchor_command.h) whenever checkpoints are waiting.
//
// Batching and retry. Each run is handed every checkpoint not yet delivered, oldest first: the
// ones a failed run did not deliver and the ones submitted since. Checkpoints submitted while a
// run is going wait for the next run, so at most one command runs at a time whatever the call
// rate. A failed run is retried when the next checkpoint is submitted (and once more when this
// object is destroyed), not on a timer. Delivery is at least once: a run that failed after its
// command stored some lines hands them over again, and `airlock audit verify --anchor` accepts a
// checkpoint that appears twice byte for byte. Undelivered checkpoints are kept up to
// MAX_UNDELIVERED_BYTES; past that the oldest are dropped (counted in the next failure report).
//
// Failures are reported, not logged, here: the event loop learns of them through
// failuresReadyFd() (an eventfd) and takes them with takeFailures(); AuditLog turns each into an
// `anchor.failed` record.
//
// Threading: submit(), takeFailures() and the destructor are called from the event-loop thread.
// The delivery thread does not allocate and holds mutex_ only to move bytes and reports: it
// works in buffers reserved by the constructor, since airlockd clones sandboxed workers from the
// main thread while it runs. It is started with every signal blocked, so SIGTERM/SIGINT still
// reach the event loop.

#include <kj/io.h>

#include <array>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/anchor_command.h"

namespace airlock::audit {

// About 3000 checkpoint lines: close to an hour of an unreachable anchor at the default
// --checkpoint-ms, in a buffer reserved once.
constexpr size_t MAX_UNDELIVERED_BYTES = 1 << 20;
// Reports waiting for the event loop; past this the oldest is dropped. A run lasts until its
// command exits or the deadline, so this many only pile up if the event loop is stuck.
constexpr size_t MAX_QUEUED_ANCHOR_FAILURES = 32;

// One failed run.
struct AnchorFailure {
  uint64_t firstSeq = 0;            // seq of the oldest checkpoint handed to the run
  uint64_t lastSeq = 0;             // seq of the newest (the one whose submission started it)
  uint64_t checkpoints = 0;         // how many it was handed; none of them counts as delivered
  uint64_t droppedCheckpoints = 0;  // dropped unsent since the last report (buffer full)
  AnchorOutcome outcome;
};

class AnchorDelivery {
 public:
  // Starts the thread. `command` runs by /bin/sh -c, each run ending within `deadline`.
  AnchorDelivery(std::string command, std::chrono::milliseconds deadline);
  ~AnchorDelivery();  // finish()

  // Lets the run in progress finish, makes one last run for checkpoints submitted since (so a
  // closing checkpoint is delivered before airlockd exits), then joins: at most two deadlines.
  // Afterwards takeFailures() still returns what those runs reported; submit() may not be called.
  void finish();

  AnchorDelivery(const AnchorDelivery&) = delete;
  AnchorDelivery& operator=(const AnchorDelivery&) = delete;

  // Queues one checkpoint line (without its '\n', as written to the log) and wakes the thread.
  void submit(const std::string& checkpointLine);

  // Readable while failure reports wait; takeFailures() drains it.
  int failuresReadyFd() const { return failuresReady_.get(); }
  std::vector<AnchorFailure> takeFailures();

  std::chrono::milliseconds deadline() const { return command_.deadline(); }

 private:
  void run();
  void takePending();  // pending_ into undelivered_, within MAX_UNDELIVERED_BYTES; under mutex_
  void report(const AnchorOutcome& outcome);  // under mutex_

  AnchorCommand command_;
  kj::AutoCloseFd failuresReady_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string pending_;       // under mutex_: submitted lines, each ending in '\n'
  std::string undelivered_;   // the thread's: what the next run is handed; capacity reserved
  uint64_t dropped_ = 0;      // under mutex_
  std::array<AnchorFailure, MAX_QUEUED_ANCHOR_FAILURES> failures_;  // under mutex_
  size_t failureCount_ = 0;   // under mutex_
  bool stopping_ = false;     // under mutex_
  std::thread thread_;        // last: started once everything above is initialised
};

}  // namespace airlock::audit

#pragma once
// How much a peer may send while it reads nothing the broker sends it.
//
// Cap'n Proto 0.9.2 puts no bound on a connection's outgoing messages: each answer the broker
// cannot write yet is queued in memory, with its message builder. A peer that keeps sending
// requests and never reads the answers therefore grows airlockd without bound: a worker's
// million Bootstrap requests took airlockd to 3.7 GB resident and stalled its event loop
// (HostilePeerTest.AMillionRequestsFromAWorkerEndThatWorkerAndNotTheBroker). A peer that reads
// has every write complete promptly, so the budget is only spent while a write to it is stuck.
//
// Broker-side, event-loop thread only; one per connection.

#include <kj/async-io.h>

#include <cstddef>
#include <string>

namespace airlock::broker {

class UnreadBudget {
 public:
  // `peer` names the connection in the error ("worker pid 12 of unit probe").
  explicit UnreadBudget(std::string peer) : peer_(kj::mv(peer)) {}

  // Wraps a write to the peer: while it is not complete, reads are counted against the budget;
  // its completion means the peer read, and the count starts again.
  kj::Promise<void> track(kj::Promise<void> write);

  // Counts one read of `bytes` from the peer on `stream` (borrowed). Once more than
  // MAX_BYTES_READ_WHILE_PEER_NOT_READING bytes or MAX_READS_WHILE_PEER_NOT_READING reads were
  // read while a write to it was stuck, logs it,
  // shuts the stream both ways (so the stuck write fails and the peer sees the end and cannot
  // send more; a failed read alone would leave Cap'n Proto waiting for that write for ever,
  // holding the connection open) and throws, which ends the connection.
  size_t onRead(size_t bytes, kj::AsyncIoStream& stream);

  // A well-behaved peer reads while it sends: the broker's socket buffer to it (~200 KiB) never
  // stays full while it sends more than a few messages. 1 MiB is a large margin over that, and
  // caps a flooding peer's queued answers at tens of MB instead of all of memory.
  static constexpr size_t MAX_BYTES_READ_WHILE_PEER_NOT_READING = 1 << 20;
  // Cap'n Proto reads each message with at least two reads (its first word, then the rest), and
  // answers each request with a message queued behind the stuck write. The queue is a chain of
  // promises that is destroyed recursively: the ~26,000 answers 1 MiB of tiny requests queue
  // overflowed airlockd's stack under AddressSanitizer when the worker was killed. 1,000 reads
  // (at most ~500 messages) keeps that chain shallow; a peer that reads never comes near it.
  static constexpr size_t MAX_READS_WHILE_PEER_NOT_READING = 1000;

 private:
  std::string peer_;
  size_t writesPending_ = 0;
  size_t readWhilePending_ = 0;   // bytes
  size_t readsWhilePending_ = 0;  // tryRead calls
};

}  // namespace airlock::broker

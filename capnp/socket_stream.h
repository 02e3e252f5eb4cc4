#pragma once
// The stream under a Cap'n Proto connection between airlock processes (airlockd and a worker,
// airlockd and a host): a Unix stream socket that the event loop watches for readability only.
//
// Why not kj's own (LowLevelAsyncIoProvider::wrapUnixSocketFd): kj 0.9.2 registers every socket
// with epoll for EPOLLIN | EPOLLOUT, edge-triggered, for as long as it exists. On a Unix socket
// each message the *peer* reads frees send space on this side, and the kernel then wakes this
// process's epoll_wait with EPOLLOUT (unix_write_space, called from sock_wfree) although nothing
// here waits to write: one wake-up, two context switches and an epoll_wait for nothing, per
// message read by the other side. Under strace, 64% of a worker's epoll_wait returns were such
// (docs/PERFORMANCE.md, "Where a brokered call's cost went"). This stream asks for EPOLLOUT only
// while a write is blocked, through an observer on a duplicate of the descriptor (epoll keys its
// registrations on the descriptor, so both can be registered), dropped once the write is done.
//
// Writes are gathered: the bytes of write() calls made while the event loop is busy are sent with
// one write when it is about to wait (kj::evalLast), or at once past FLUSH_AT_BYTES (a write that
// large on its own is not copied: it goes out as kj's would). Cap'n Proto writes each message on
// its own, so the Return and Release messages one event-loop turn produces, or the Calls of
// several calls in flight, would otherwise cost the peer one wake-up each. A gathered write's
// promise resolves when it is accepted; it waits (so that the broker's UnreadBudget sees a peer
// that does not read) only while send space lacks. A message with fds goes out with its own
// sendmsg, after everything before it, so its fds stay with its first byte. Whoever runs code
// outside the event loop between turns (the worker SDK's methods) polls the loop first, so that
// nothing gathered waits behind it. Bytes still gathered when the stream is destroyed are
// dropped, as a kj stream drops the writes it has not finished.
//
// Otherwise as kj's: reads return once `minBytes` arrived (fewer only at EOF); fds received with
// SCM_RIGHTS arrive close-on-exec, those past `maxFds` are closed. No streams (never used).
// Event-loop thread only; the descriptor is owned and closed by the stream.

#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <kj/io.h>
#include <kj/vector.h>

namespace airlock::rpc {

// Whether this side may be sent fds. A side that takes none (airlockd: FdRefusingStream, host
// connections) reads ahead: up to READ_AHEAD_BYTES per read(2), handed out to the following reads,
// where Cap'n Proto reads every message in two (its first word, then the rest). A side that takes
// fds cannot: an fd travels with the first byte of its message, and a read that ran into the
// next message would take that message's fds with the bytes of this one.
enum class Fds : uint8_t { REFUSED, ACCEPTED };

class SocketStream final : public kj::AsyncCapabilityStream {
 public:
  // `socket`: a connected AF_UNIX SOCK_STREAM socket; made non-blocking here. With
  // Fds::REFUSED, reads never ask for fds (the kernel closes any that arrive) and read ahead.
  SocketStream(kj::UnixEventPort& eventPort, kj::AutoCloseFd socket, Fds fds);
  ~SocketStream() noexcept(false);
  KJ_DISALLOW_COPY(SocketStream);

  kj::Promise<size_t> tryRead(void* buffer, size_t minBytes, size_t maxBytes) override;
  kj::Promise<ReadResult> tryReadWithFds(void* buffer, size_t minBytes, size_t maxBytes,
                                         kj::AutoCloseFd* fdBuffer, size_t maxFds) override;
  kj::Promise<ReadResult> tryReadWithStreams(void* buffer, size_t minBytes, size_t maxBytes,
                                             kj::Own<kj::AsyncCapabilityStream>* streamBuffer,
                                             size_t maxStreams) override;

  kj::Promise<void> write(const void* buffer, size_t size) override;
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override;
  kj::Promise<void> writeWithFds(kj::ArrayPtr<const kj::byte> data,
                                 kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> moreData,
                                 kj::ArrayPtr<const int> fds) override;
  kj::Promise<void> writeWithStreams(
      kj::ArrayPtr<const kj::byte> data, kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> moreData,
      kj::Array<kj::Own<kj::AsyncCapabilityStream>> streams) override;
  kj::Promise<void> whenWriteDisconnected() override;
  void shutdownWrite() override;
  void abortRead() override;

  void getsockopt(int level, int option, void* value, kj::uint* length) override;
  void setsockopt(int level, int option, const void* value, kj::uint length) override;
  void getsockname(struct sockaddr* addr, kj::uint* length) override;
  void getpeername(struct sockaddr* addr, kj::uint* length) override;
  kj::Maybe<int> getFd() const override { return fd_.get(); }

  // Gathered bytes past this are written at once rather than at the end of the turn: a peer that
  // floods the broker with requests keeps its event loop busy, and the answers must not pile up
  // here unseen by the UnreadBudget.
  static constexpr size_t FLUSH_AT_BYTES = 64 << 10;
  // One read-ahead: many small messages (a call is a few hundred bytes), per connection.
  static constexpr size_t READ_AHEAD_BYTES = 8 << 10;

 private:
  // What remains of one write: the pieces not yet (fully) written, and fds not yet sent.
  struct Pending;
  kj::Promise<ReadResult> readSome(kj::byte* buffer, size_t minBytes, size_t maxBytes,
                                   kj::AutoCloseFd* fdBuffer, size_t maxFds, ReadResult done);
  kj::Promise<size_t> readAhead(kj::byte* buffer, size_t minBytes, size_t maxBytes, size_t done);
  kj::Promise<void> writeSome(kj::Own<Pending> pending);
  kj::Promise<void> whenWritable();
  kj::Promise<void> gather(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces);
  void flush();                         // writes what is gathered, as far as the kernel takes it
  kj::Promise<void> whenFlushed();      // resolves once nothing is gathered
  void flushed();                       // the outbox emptied: wake whoever waits
  void failed(kj::Exception exception);  // a write failed: so does every later one

  kj::UnixEventPort& eventPort_;
  kj::AutoCloseFd fd_;
  kj::UnixEventPort::FdObserver readObserver_;
  const Fds fds_;
  kj::Array<kj::byte> inbox_;  // Fds::REFUSED: read ahead, [inboxBegin_, inboxEnd_) not yet taken
  size_t inboxBegin_ = 0, inboxEnd_ = 0;
  // While a write waits for send space: a duplicate of fd_ watched for EPOLLOUT. Declared after
  // fd_ so it goes first.
  struct WriteWatch;
  kj::Maybe<kj::Own<WriteWatch>> writeWatch_;

  kj::Vector<kj::byte> outbox_;  // gathered, from outboxSent_ on not yet in the kernel
  size_t outboxSent_ = 0;
  bool flushScheduled_ = false;  // an evalLast flush is queued
  bool blocked_ = false;         // a flush waits for send space
  // A write from the caller's buffers (writeSome) waits on writeWatch_: the observer holds one
  // waiter only, and dropping the watch would break that write's promise.
  bool directWriteWaiting_ = false;
  bool shutdownWhenFlushed_ = false;
  kj::Vector<kj::Own<kj::PromiseFulfiller<void>>> flushWaiters_;
  kj::Maybe<kj::Exception> failure_;
  struct TaskErrors final : public kj::TaskSet::ErrorHandler {
    void taskFailed(kj::Exception&& exception) override;
  } taskErrors_;
  kj::TaskSet tasks_;  // last: its flushes use everything above
};

// Wraps `socket` (as above) for `io`'s event loop.
kj::Own<kj::AsyncCapabilityStream> wrapSocket(kj::AsyncIoContext& io, kj::AutoCloseFd socket,
                                              Fds fds);

// Takes over the socket under a stream kj made (a kj::ConnectionReceiver's accepted connection):
// a duplicate of its fd becomes a SocketStream and kj's stream, with its registration, is closed.
kj::Own<kj::AsyncCapabilityStream> takeOver(kj::UnixEventPort& eventPort,
                                            kj::Own<kj::AsyncIoStream> kjStream, Fds fds);

}  // namespace airlock::rpc

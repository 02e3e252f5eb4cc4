#pragma once
// The stream under a Cap'n Proto connection between airlock processes (airlockd and a worker):
// a Unix stream socket that the event loop watches for readability only.
//
// Why not kj's own (LowLevelAsyncIoProvider::wrapUnixSocketFd): kj 0.9.2 registers every socket
// with epoll for EPOLLIN | EPOLLOUT, edge-triggered, for as long as it exists. On a Unix socket
// each message the *peer* reads frees send space on this side, and the kernel then wakes this
// process's epoll_wait with EPOLLOUT (unix_write_space, called from sock_wfree) although nothing
// here waits to write: one wake-up, two context switches and an epoll_wait for nothing, per
// message read by the other side. On a brokered call the worker saw two such wake-ups for every
// real one (docs/PERFORMANCE.md, "Calls in flight"). This stream asks for EPOLLOUT only while a
// write is blocked, through an observer on a duplicate of the descriptor (epoll keys its
// registrations on the descriptor, so both can be registered), dropped once the write is done.
//
// Semantics are kj's: reads return once `minBytes` arrived (fewer only at EOF); fds received with
// SCM_RIGHTS arrive close-on-exec, those past `maxFds` are closed; a write's promise resolves once
// every byte is in the kernel; a message's fds go with its first byte. No streams (never used).
// Event-loop thread only; the descriptor is owned and closed by the stream.

#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <kj/io.h>

namespace airlock::rpc {

class SocketStream final : public kj::AsyncCapabilityStream {
 public:
  // `socket`: a connected AF_UNIX SOCK_STREAM socket; made non-blocking here.
  SocketStream(kj::UnixEventPort& eventPort, kj::AutoCloseFd socket);
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
  kj::Promise<void> writeWithStreams(kj::ArrayPtr<const kj::byte> data,
                                     kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> moreData,
                                     kj::Array<kj::Own<kj::AsyncCapabilityStream>> streams) override;
  kj::Promise<void> whenWriteDisconnected() override;
  void shutdownWrite() override;
  void abortRead() override;

  void getsockopt(int level, int option, void* value, kj::uint* length) override;
  void setsockopt(int level, int option, const void* value, kj::uint length) override;
  void getsockname(struct sockaddr* addr, kj::uint* length) override;
  void getpeername(struct sockaddr* addr, kj::uint* length) override;
  kj::Maybe<int> getFd() const override { return fd_.get(); }

 private:
  // What remains of one write: the pieces not yet (fully) written, and fds not yet sent.
  struct Pending;
  kj::Promise<ReadResult> readSome(kj::byte* buffer, size_t minBytes, size_t maxBytes,
                                   kj::AutoCloseFd* fdBuffer, size_t maxFds, ReadResult done);
  kj::Promise<void> writeSome(kj::Own<Pending> pending);
  kj::Promise<void> whenWritable();

  kj::UnixEventPort& eventPort_;
  kj::AutoCloseFd fd_;
  kj::UnixEventPort::FdObserver readObserver_;
  // While a write waits for send space: a duplicate of fd_ watched for EPOLLOUT. Declared after
  // fd_ so it goes first.
  struct WriteWatch;
  kj::Maybe<kj::Own<WriteWatch>> writeWatch_;
};

// Wraps `socket` (as above) for `io`'s event loop.
kj::Own<kj::AsyncCapabilityStream> wrapSocket(kj::AsyncIoContext& io, kj::AutoCloseFd socket);

}  // namespace airlock::rpc

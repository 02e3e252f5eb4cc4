#include "capnp/socket_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <kj/debug.h>
#include <kj/vector.h>

#include <cstring>

namespace airlock::rpc {

struct SocketStream::WriteWatch {
  kj::AutoCloseFd duplicate;
  kj::UnixEventPort::FdObserver observer;  // after `duplicate`: deregisters before it closes

  WriteWatch(kj::UnixEventPort& eventPort, kj::AutoCloseFd fd)
      : duplicate(kj::mv(fd)),
        observer(eventPort, duplicate.get(), kj::UnixEventPort::FdObserver::OBSERVE_WRITE) {}
};

struct SocketStream::Pending {
  kj::Vector<iovec> pieces;  // what is left to write, in order
  kj::Vector<int> fds;       // not yet sent: they go with the first byte that is
  size_t first = 0;          // index of the first piece with bytes left
};

namespace {

// At most this many fds in one recvmsg: capnp asks for a handful (maxFdsPerMessage).
constexpr size_t MAX_FDS_PER_READ = 16;

}  // namespace

SocketStream::SocketStream(kj::UnixEventPort& eventPort, kj::AutoCloseFd socket, Fds fds)
    : eventPort_(eventPort),
      fd_(kj::mv(socket)),
      readObserver_(eventPort, fd_.get(), kj::UnixEventPort::FdObserver::OBSERVE_READ),
      fds_(fds),
      inbox_(fds == Fds::REFUSED ? kj::heapArray<kj::byte>(READ_AHEAD_BYTES) : nullptr),
      tasks_(taskErrors_) {
  int flags;
  KJ_SYSCALL(flags = fcntl(fd_.get(), F_GETFL), "socket stream");
  if ((flags & O_NONBLOCK) == 0) {
    KJ_SYSCALL(fcntl(fd_.get(), F_SETFL, flags | O_NONBLOCK), "socket stream");
  }
}

SocketStream::~SocketStream() noexcept(false) {}

kj::Promise<size_t> SocketStream::tryRead(void* buffer, size_t minBytes, size_t maxBytes) {
  if (fds_ == Fds::REFUSED) return readAhead(static_cast<kj::byte*>(buffer), minBytes, maxBytes, 0);
  return readSome(static_cast<kj::byte*>(buffer), minBytes, maxBytes, nullptr, 0, {0, 0})
      .then([](ReadResult result) { return result.byteCount; });
}

kj::Promise<SocketStream::ReadResult> SocketStream::tryReadWithFds(void* buffer, size_t minBytes,
                                                                   size_t maxBytes,
                                                                   kj::AutoCloseFd* fdBuffer,
                                                                   size_t maxFds) {
  if (fds_ == Fds::REFUSED) {
    return readAhead(static_cast<kj::byte*>(buffer), minBytes, maxBytes, 0)
        .then([](size_t n) { return ReadResult{n, 0}; });
  }
  return readSome(static_cast<kj::byte*>(buffer), minBytes, maxBytes, fdBuffer, maxFds, {0, 0});
}

kj::Promise<SocketStream::ReadResult> SocketStream::tryReadWithStreams(
    void*, size_t, size_t, kj::Own<kj::AsyncCapabilityStream>*, size_t) {
  KJ_UNIMPLEMENTED("airlock channels never carry streams");
}

kj::Promise<SocketStream::ReadResult> SocketStream::readSome(kj::byte* buffer, size_t minBytes,
                                                             size_t maxBytes,
                                                             kj::AutoCloseFd* fdBuffer,
                                                             size_t maxFds, ReadResult done) {
  for (;;) {
    ssize_t n;
    size_t fdRoom = kj::min(maxFds - done.capCount, MAX_FDS_PER_READ);
    if (fdRoom == 0) {
      n = ::read(fd_.get(), buffer, maxBytes);
    } else {
      iovec io = {buffer, maxBytes};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * MAX_FDS_PER_READ)];
      msghdr message{};
      message.msg_iov = &io;
      message.msg_iovlen = 1;
      message.msg_control = control;
      message.msg_controllen = CMSG_SPACE(sizeof(int) * fdRoom);
      n = ::recvmsg(fd_.get(), &message, MSG_CMSG_CLOEXEC);
      if (n >= 0) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
          if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
          size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
          for (size_t i = 0; i < count; ++i) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            kj::AutoCloseFd owned(fd);  // closed here unless there is room for it
            if (done.capCount < maxFds) fdBuffer[done.capCount++] = kj::mv(owned);
          }
        }
      }
    }
    if (n < 0) {
      int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) {
        return readObserver_.whenBecomesReadable().then(
            [this, buffer, minBytes, maxBytes, fdBuffer, maxFds, done]() {
              return readSome(buffer, minBytes, maxBytes, fdBuffer, maxFds, done);
            });
      }
      KJ_FAIL_SYSCALL("read(channel socket)", error, fd_.get());
    }
    if (n == 0) return done;  // EOF
    done.byteCount += n;
    if (static_cast<size_t>(n) >= minBytes) return done;
    buffer += n;
    minBytes -= n;
    maxBytes -= n;
  }
}

kj::Promise<size_t> SocketStream::readAhead(kj::byte* buffer, size_t minBytes, size_t maxBytes,
                                            size_t done) {
  for (;;) {
    size_t taken = kj::min(inboxEnd_ - inboxBegin_, maxBytes);
    memcpy(buffer, inbox_.begin() + inboxBegin_, taken);
    inboxBegin_ += taken;
    done += taken;
    if (taken >= minBytes) return done;
    buffer += taken;
    minBytes -= taken;
    maxBytes -= taken;
    // The inbox is empty now. A read as large as the inbox goes straight to the caller.
    bool direct = maxBytes >= inbox_.size();
    ssize_t n = direct ? ::read(fd_.get(), buffer, maxBytes)
                       : ::read(fd_.get(), inbox_.begin(), inbox_.size());
    if (n < 0) {
      int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) {
        return readObserver_.whenBecomesReadable().then([this, buffer, minBytes, maxBytes, done]() {
          return readAhead(buffer, minBytes, maxBytes, done);
        });
      }
      KJ_FAIL_SYSCALL("read(channel socket)", error, fd_.get());
    }
    if (n == 0) return done;  // EOF
    if (direct) {
      done += n;
      if (static_cast<size_t>(n) >= minBytes) return done;
      buffer += n;
      minBytes -= n;
      maxBytes -= n;
      continue;
    }
    inboxBegin_ = 0;
    inboxEnd_ = n;
  }
}

kj::Promise<void> SocketStream::write(const void* buffer, size_t size) {
  kj::ArrayPtr<const kj::byte> piece(static_cast<const kj::byte*>(buffer), size);
  return gather(kj::arrayPtr(&piece, 1));
}

kj::Promise<void> SocketStream::write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  return gather(pieces);
}

kj::Promise<void> SocketStream::gather(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  KJ_IF_MAYBE(failure, failure_) { return kj::cp(*failure); }
  size_t size = 0;
  for (auto& piece : pieces) size += piece.size();
  if (size >= FLUSH_AT_BYTES && outboxSent_ == outbox_.size() && !blocked_) {
    // Nothing is gathered and this alone would be flushed at once: write it from where it is
    // (a large payload is not copied), waiting as kj does until the kernel has all of it.
    auto pending = kj::heap<Pending>();
    for (auto& piece : pieces) {
      pending->pieces.add(iovec{const_cast<kj::byte*>(piece.begin()), piece.size()});
    }
    return writeSome(kj::mv(pending));
  }
  for (auto& piece : pieces) outbox_.addAll(piece);
  if (blocked_) return whenFlushed();
  if (outbox_.size() - outboxSent_ >= FLUSH_AT_BYTES) {
    flush();
    KJ_IF_MAYBE(failure, failure_) { return kj::cp(*failure); }
    return blocked_ ? whenFlushed() : kj::READY_NOW;
  }
  if (!flushScheduled_) {
    flushScheduled_ = true;
    tasks_.add(kj::evalLast([this]() {
      flushScheduled_ = false;
      // A larger write may have flushed the outbox meanwhile and another be waiting for send
      // space from where it is: with nothing gathered there is nothing to do.
      if (!blocked_ && outboxSent_ < outbox_.size()) flush();
    }));
  }
  return kj::READY_NOW;
}

void SocketStream::flush() {
  while (outboxSent_ < outbox_.size()) {
    ssize_t n = ::write(fd_.get(), outbox_.begin() + outboxSent_, outbox_.size() - outboxSent_);
    if (n < 0) {
      int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) {
        blocked_ = true;
        tasks_.add(whenWritable().then([this]() {
          blocked_ = false;
          flush();
        }));
        return;
      }
      KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
                    KJ_FAIL_SYSCALL("write(channel socket)", error, fd_.get());
                  })) {
        failed(kj::mv(*exception));
      }
      return;
    }
    outboxSent_ += n;
  }
  flushed();
}

void SocketStream::flushed() {
  outbox_.clear();
  outboxSent_ = 0;
  if (!directWriteWaiting_) writeWatch_ = nullptr;  // nothing waits for send space any more
  auto waiters = kj::mv(flushWaiters_);
  for (auto& waiter : waiters) waiter->fulfill();
  if (shutdownWhenFlushed_) {
    shutdownWhenFlushed_ = false;
    shutdown(fd_.get(), SHUT_WR);  // as shutdownWrite() would have; nobody is left to tell
  }
}

void SocketStream::failed(kj::Exception exception) {
  outbox_.clear();
  outboxSent_ = 0;
  if (!directWriteWaiting_) writeWatch_ = nullptr;
  auto waiters = kj::mv(flushWaiters_);
  for (auto& waiter : waiters) waiter->reject(kj::cp(exception));
  failure_ = kj::mv(exception);
}

kj::Promise<void> SocketStream::whenFlushed() {
  KJ_IF_MAYBE(failure, failure_) { return kj::cp(*failure); }
  if (outboxSent_ == outbox_.size() && !blocked_) return kj::READY_NOW;
  auto paf = kj::newPromiseAndFulfiller<void>();
  flushWaiters_.add(kj::mv(paf.fulfiller));
  return kj::mv(paf.promise);
}

void SocketStream::TaskErrors::taskFailed(kj::Exception&& exception) {
  // flush() keeps its own failures in failure_; anything else is a bug, and the next write says so.
  KJ_LOG(ERROR, "socket stream flush task failed", exception);
}

kj::Promise<void> SocketStream::writeWithFds(
    kj::ArrayPtr<const kj::byte> data, kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> moreData,
    kj::ArrayPtr<const int> fds) {
  if (fds.size() == 0) {
    // Cap'n Proto writes every message of a connection that can carry fds this way.
    KJ_STACK_ARRAY(kj::ArrayPtr<const kj::byte>, pieces, moreData.size() + 1, 8, 64);
    pieces[0] = data;
    for (size_t i = 0; i < moreData.size(); ++i) pieces[i + 1] = moreData[i];
    return gather(pieces);
  }
  auto pending = kj::heap<Pending>();
  pending->pieces.add(iovec{const_cast<kj::byte*>(data.begin()), data.size()});
  for (auto& piece : moreData) {
    pending->pieces.add(iovec{const_cast<kj::byte*>(piece.begin()), piece.size()});
  }
  pending->fds.addAll(fds);
  // Everything gathered before this message goes first, and alone: the fds must travel with the
  // first byte of their own message (the peer reads them with that message's first word).
  if (outboxSent_ < outbox_.size() && !blocked_) flush();
  return whenFlushed().then(
      [this, pending = kj::mv(pending)]() mutable { return writeSome(kj::mv(pending)); });
}

kj::Promise<void> SocketStream::writeWithStreams(
    kj::ArrayPtr<const kj::byte>, kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>>,
    kj::Array<kj::Own<kj::AsyncCapabilityStream>>) {
  KJ_UNIMPLEMENTED("airlock channels never carry streams");
}

kj::Promise<void> SocketStream::writeSome(kj::Own<Pending> pending) {
  for (;;) {
    auto& p = *pending;
    while (p.first < p.pieces.size() && p.pieces[p.first].iov_len == 0) ++p.first;
    if (p.first == p.pieces.size() && p.fds.empty()) {
      directWriteWaiting_ = false;
      writeWatch_ = nullptr;  // nothing waits for send space any more
      return kj::READY_NOW;
    }
    size_t count = kj::min(p.pieces.size() - p.first, static_cast<size_t>(IOV_MAX));
    ssize_t n;
    if (p.fds.empty()) {
      n = ::writev(fd_.get(), p.pieces.begin() + p.first, count);
    } else {
      // On a stream socket fds travel with bytes; capnp never sends fds without a message.
      KJ_REQUIRE(p.first < p.pieces.size(), "fds need at least one byte to travel with");
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * MAX_FDS_PER_READ)];
      KJ_REQUIRE(p.fds.size() <= MAX_FDS_PER_READ, "too many fds in one message", p.fds.size());
      msghdr message{};
      message.msg_iov = p.pieces.begin() + p.first;
      message.msg_iovlen = count;
      message.msg_control = control;
      message.msg_controllen = CMSG_SPACE(sizeof(int) * p.fds.size());
      cmsghdr* c = CMSG_FIRSTHDR(&message);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * p.fds.size());
      memcpy(CMSG_DATA(c), p.fds.begin(), sizeof(int) * p.fds.size());
      n = ::sendmsg(fd_.get(), &message, 0);
      if (n > 0) p.fds.clear();  // they went with the first byte
    }
    if (n < 0) {
      int error = errno;
      if (error == EINTR) continue;
      if (error != EAGAIN && error != EWOULDBLOCK) {
        directWriteWaiting_ = false;
        writeWatch_ = nullptr;
        KJ_FAIL_SYSCALL("write(channel socket)", error, fd_.get());
      }
      n = 0;
    }
    if (n == 0) {
      // The send buffer is full (a short write is followed by one more writev, which then
      // finds it so): wait for space.
      directWriteWaiting_ = true;
      return whenWritable().then(
          [this, pending = kj::mv(pending)]() mutable { return writeSome(kj::mv(pending)); });
    }
    for (size_t written = n; written > 0;) {
      iovec& piece = p.pieces[p.first];
      size_t used = kj::min(written, piece.iov_len);
      piece.iov_base = static_cast<kj::byte*>(piece.iov_base) + used;
      piece.iov_len -= used;
      written -= used;
      if (piece.iov_len == 0) ++p.first;
    }
  }
}

kj::Promise<void> SocketStream::whenWritable() {
  if (writeWatch_ == nullptr) {
    int copy;
    KJ_SYSCALL(copy = fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0), "watching a channel for send space");
    writeWatch_ = kj::heap<WriteWatch>(eventPort_, kj::AutoCloseFd(copy));
  }
  // Registered after the write found the buffer full: if space came back meanwhile, epoll
  // reports it at once on registration, and an already registered watch sees the next edge.
  KJ_IF_MAYBE(watch, writeWatch_) { return (*watch)->observer.whenBecomesWritable(); }
  KJ_UNREACHABLE;
}

kj::Promise<void> SocketStream::whenWriteDisconnected() {
  // EPOLLHUP and EPOLLERR are reported whatever the registration asked for.
  return readObserver_.whenWriteDisconnected();
}

void SocketStream::shutdownWrite() {
  if (outboxSent_ < outbox_.size() && !blocked_) flush();
  if (outboxSent_ < outbox_.size()) {
    shutdownWhenFlushed_ = true;  // after the gathered bytes, or they would be refused
    return;
  }
  KJ_SYSCALL(shutdown(fd_.get(), SHUT_WR));
}

void SocketStream::abortRead() { KJ_SYSCALL(shutdown(fd_.get(), SHUT_RD)); }

void SocketStream::getsockopt(int level, int option, void* value, kj::uint* length) {
  socklen_t size = *length;
  KJ_SYSCALL(::getsockopt(fd_.get(), level, option, value, &size));
  *length = size;
}

void SocketStream::setsockopt(int level, int option, const void* value, kj::uint length) {
  KJ_SYSCALL(::setsockopt(fd_.get(), level, option, value, length));
}

void SocketStream::getsockname(struct sockaddr* addr, kj::uint* length) {
  socklen_t size = *length;
  KJ_SYSCALL(::getsockname(fd_.get(), addr, &size));
  *length = size;
}

void SocketStream::getpeername(struct sockaddr* addr, kj::uint* length) {
  socklen_t size = *length;
  KJ_SYSCALL(::getpeername(fd_.get(), addr, &size));
  *length = size;
}

kj::Own<kj::AsyncCapabilityStream> wrapSocket(kj::AsyncIoContext& io, kj::AutoCloseFd socket,
                                              Fds fds) {
  return kj::heap<SocketStream>(io.unixEventPort, kj::mv(socket), fds);
}

kj::Own<kj::AsyncCapabilityStream> takeOver(kj::UnixEventPort& eventPort,
                                            kj::Own<kj::AsyncIoStream> kjStream, Fds fds) {
  int fd = KJ_REQUIRE_NONNULL(kjStream->getFd(), "a stream without an fd cannot be taken over");
  int copy;
  KJ_SYSCALL(copy = fcntl(fd, F_DUPFD_CLOEXEC, 0), "taking over an accepted socket");
  kj::AutoCloseFd owned(copy);
  kjStream = nullptr;  // deregisters from epoll and closes the original
  return kj::heap<SocketStream>(eventPort, kj::mv(owned), fds);
}

}  // namespace airlock::rpc

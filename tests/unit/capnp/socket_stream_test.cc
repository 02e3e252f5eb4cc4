#include "capnp/socket_stream.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dirent.h>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <kj/debug.h>

namespace airlock::rpc {
namespace {

struct Pair {
  kj::AutoCloseFd mine, theirs;
};

Pair socketPair() {
  int fds[2];
  KJ_SYSCALL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  return {kj::AutoCloseFd(fds[0]), kj::AutoCloseFd(fds[1])};
}

// The epoll events every epoll instance of this process registered for `fd`, OR-ed together,
// from /proc/self/fdinfo (lines "tfd: FD events: MASK ...").
uint32_t epollEventsFor(int fd) {
  uint32_t events = 0;
  DIR* dir = opendir("/proc/self/fdinfo");
  while (dirent* entry = readdir(dir)) {
    std::ifstream info(std::string("/proc/self/fdinfo/") + entry->d_name);
    std::string line;
    while (std::getline(info, line)) {
      std::istringstream words(line);
      std::string tfd, eventsKey;
      int target;
      std::string mask;
      if (words >> tfd >> target >> eventsKey >> mask && tfd == "tfd:" && target == fd) {
        events |= std::stoul(mask, nullptr, 16);
      }
    }
  }
  closedir(dir);
  return events;
}

TEST(SocketStream, IsWatchedForReadingOnlySoThePeersReadsDoNotWakeIt) {
  auto io = kj::setupAsyncIo();
  auto [mine, theirs] = socketPair();
  int fd = mine.get();
  auto stream = wrapSocket(io, kj::mv(mine), Fds::ACCEPTED);
  stream->write("hello", 5).wait(io.waitScope);
  uint32_t events = epollEventsFor(fd);
  EXPECT_TRUE(events & EPOLLIN);
  EXPECT_FALSE(events & EPOLLOUT) << "registered for EPOLLOUT: every read by the peer wakes us";
}

TEST(SocketStream, AReadWaitsForMinBytesAcrossSeparateSends) {
  auto io = kj::setupAsyncIo();
  auto [mine, theirs] = socketPair();
  auto stream = wrapSocket(io, kj::mv(mine), Fds::ACCEPTED);
  ASSERT_EQ(write(theirs.get(), "abc", 3), 3);
  char buffer[8] = {};
  auto read = stream->tryRead(buffer, 6, sizeof(buffer));
  EXPECT_FALSE(read.poll(io.waitScope)) << "only 3 of 6 bytes have arrived";
  ASSERT_EQ(write(theirs.get(), "defg", 4), 4);
  EXPECT_EQ(read.wait(io.waitScope), 7u);
  EXPECT_EQ(std::string(buffer, 7), "abcdefg");
}

TEST(SocketStream, EndOfStreamEndsAReadShort) {
  auto io = kj::setupAsyncIo();
  auto [mine, theirs] = socketPair();
  auto stream = wrapSocket(io, kj::mv(mine), Fds::ACCEPTED);
  ASSERT_EQ(write(theirs.get(), "ab", 2), 2);
  theirs = nullptr;
  char buffer[8];
  EXPECT_EQ(stream->tryRead(buffer, 8, 8).wait(io.waitScope), 2u);
  EXPECT_EQ(stream->tryRead(buffer, 1, 8).wait(io.waitScope), 0u);
}

TEST(SocketStream, FdsGoWithTheFirstByteAndThoseBeyondTheRoomAreClosed) {
  auto io = kj::setupAsyncIo();
  auto [mine, theirs] = socketPair();
  auto sender = wrapSocket(io, kj::mv(mine), Fds::ACCEPTED);
  auto receiver = wrapSocket(io, kj::mv(theirs), Fds::ACCEPTED);
  int pipeFds[2];
  ASSERT_EQ(pipe2(pipeFds, O_CLOEXEC), 0);
  kj::AutoCloseFd pipeRead(pipeFds[0]), pipeWrite(pipeFds[1]);
  kj::byte first[2] = {'x', 'y'};
  kj::byte more[1] = {'z'};
  kj::ArrayPtr<const kj::byte> pieces[1] = {more};
  int fds[2] = {pipeRead.get(), pipeWrite.get()};
  sender->writeWithFds(first, pieces, fds).wait(io.waitScope);
  pipeWrite = nullptr;  // the only write end left is the one in flight

  char buffer[3];
  kj::AutoCloseFd received[1];
  auto result = receiver->tryReadWithFds(buffer, 3, 3, received, 1).wait(io.waitScope);
  EXPECT_EQ(result.byteCount, 3u);
  EXPECT_EQ(std::string(buffer, 3), "xyz");
  ASSERT_EQ(result.capCount, 1u);
  EXPECT_TRUE(fcntl(received[0].get(), F_GETFD) & FD_CLOEXEC);
  // The second fd (the pipe's write end) had no room: closed on receipt, so the pipe is at EOF.
  char b;
  EXPECT_EQ(read(received[0].get(), &b, 1), 0);
}

TEST(SocketStream, AWriteLargerThanTheSendBufferCompletesAsThePeerReads) {
  auto io = kj::setupAsyncIo();
  auto [mine, theirs] = socketPair();
  int small = 4096;
  ASSERT_EQ(setsockopt(mine.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  auto sender = wrapSocket(io, kj::mv(mine), Fds::ACCEPTED);
  auto receiver = wrapSocket(io, kj::mv(theirs), Fds::ACCEPTED);
  std::string data(1 << 20, 'q');
  data[12345] = 'r';
  kj::ArrayPtr<const kj::byte> pieces[2] = {
      kj::arrayPtr(reinterpret_cast<const kj::byte*>(data.data()), 1000),
      kj::arrayPtr(reinterpret_cast<const kj::byte*>(data.data()) + 1000, data.size() - 1000)};
  auto written = sender->write(pieces);
  std::string got(data.size(), '\0');
  auto read = receiver->read(got.data(), got.size());
  read.wait(io.waitScope);
  written.wait(io.waitScope);
  EXPECT_EQ(got, data);

  // The same after a small write: gathered, then flushed with the large one past FLUSH_AT_BYTES.
  sender->write("s", 1).wait(io.waitScope);
  auto second = sender->write(pieces);
  std::string again(data.size() + 1, '\0');
  receiver->read(again.data(), again.size()).wait(io.waitScope);
  second.wait(io.waitScope);
  EXPECT_EQ(again, "s" + data);
}

// A small write gathered for the end of the turn, then two large ones: the first flushed with it,
// the second written from where it is until the send buffer fills. The end-of-turn flush then
// finds nothing gathered; it must leave the second write's watch for send space alone. (It did
// not: the watch was dropped, the write failed with "PromiseFulfiller was destroyed without
// fulfilling the promise", and the connection with it; found by a host pipelining 64 KiB calls.)
TEST(SocketStream, ALargeWriteWaitingForSpaceSurvivesTheEndOfTurnFlush) {
  auto io = kj::setupAsyncIo();
  auto [mine, theirs] = socketPair();
  auto stream = wrapSocket(io, kj::mv(mine), Fds::ACCEPTED);
  std::string large(SocketStream::FLUSH_AT_BYTES, 'b'), larger(4 << 20, 'c');
  larger[123456] = 'x';
  stream->write("a", 1).wait(io.waitScope);
  stream->write(large.data(), large.size()).wait(io.waitScope);
  auto blocked = stream->write(larger.data(), larger.size());
  std::string expected = "a" + large + larger, got;
  char buffer[1 << 16];
  while (got.size() < expected.size()) {
    io.waitScope.poll();  // the end-of-turn flush runs here
    ssize_t n = recv(theirs.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      got.append(buffer, n);
    } else {
      ASSERT_EQ(errno, EAGAIN) << strerror(errno);
      if (blocked.poll(io.waitScope)) break;  // done, or failed: nothing more will come
    }
  }
  blocked.wait(io.waitScope);
  EXPECT_EQ(got, expected);
}

// Writes of every size, each started as Cap'n Proto starts them (once the one before has
// completed, in a continuation of it), against a peer that reads a random amount at a time: every
// byte arrives once and in order, and every write completes.
TEST(SocketStream, RandomWritesAgainstASlowReaderDeliverEveryByteInOrder) {
  std::mt19937 random(20261127);
  auto pick = [&](size_t low, size_t high) {
    return std::uniform_int_distribution<size_t>(low, high)(random);
  };
  for (int round = 0; round < 20; ++round) {
    auto io = kj::setupAsyncIo();
    auto [mine, theirs] = socketPair();
    if (round % 2 == 1) {
      int small = 4096;
      ASSERT_EQ(setsockopt(mine.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
    }
    auto stream = wrapSocket(io, kj::mv(mine), Fds::ACCEPTED);
    std::vector<std::string> messages;
    for (int i = 0; i < 150; ++i) {
      size_t kind = pick(0, 9);
      size_t size = kind < 6   ? pick(1, 200)
                    : kind < 9 ? pick(201, 64 << 10)
                               : pick(64 << 10, 300 << 10);
      std::string message(size, '\0');
      for (auto& c : message) c = static_cast<char>(pick(0, 255));
      messages.push_back(kj::mv(message));
    }
    std::string expected;
    for (auto& message : messages) expected += message;
    size_t completed = 0;
    kj::Promise<void> chain = kj::READY_NOW;
    for (auto& message : messages) {
      chain = chain.then([&stream, &message, &completed]() {
        return stream->write(message.data(), message.size()).then([&completed]() { ++completed; });
      });
    }
    chain = chain.eagerlyEvaluate(nullptr);
    std::string got;
    std::vector<char> buffer(512 << 10);
    while (got.size() < expected.size()) {
      io.waitScope.poll();
      ssize_t n = recv(theirs.get(), buffer.data(), pick(1, buffer.size()), MSG_DONTWAIT);
      if (n > 0) {
        got.append(buffer.data(), n);
      } else {
        ASSERT_EQ(errno, EAGAIN) << strerror(errno);
        if (chain.poll(io.waitScope)) break;  // all written, or one failed
      }
    }
    chain.wait(io.waitScope);
    EXPECT_EQ(completed, messages.size()) << "round " << round;
    ASSERT_EQ(got.size(), expected.size()) << "round " << round;
    EXPECT_TRUE(got == expected) << "round " << round << ": the bytes differ";
  }
}

TEST(SocketStream, ASideThatRefusesFdsReadsAheadAndHandsOutEveryByteInOrder) {
  auto io = kj::setupAsyncIo();
  auto [mine, theirs] = socketPair();
  auto stream = wrapSocket(io, kj::mv(mine), Fds::REFUSED);
  std::string sent;
  for (int i = 0; i < 5000; ++i) sent += std::to_string(i) + ",";
  ASSERT_EQ(write(theirs.get(), sent.data(), sent.size()), static_cast<ssize_t>(sent.size()));
  theirs = nullptr;
  std::string got;
  char buffer[40000];
  for (size_t want : {1, 7, 8, 100, 30000, 40000}) {  // small reads from the inbox, large direct
    size_t n = stream->tryRead(buffer, 1, want).wait(io.waitScope);
    got.append(buffer, n);
  }
  while (size_t n = stream->tryRead(buffer, 1, sizeof(buffer)).wait(io.waitScope)) {
    got.append(buffer, n);
  }
  EXPECT_EQ(got, sent);
}

// Reads as Cap'n Proto makes them (a minimum and a larger maximum, small and large) while the
// peer sends random amounts at random moments: with read-ahead (fds refused) and without, every
// byte is handed out once, in order, and no read returns less than its minimum before the end.
TEST(SocketStream, RandomReadsOfRandomSendsHandOutEveryByteInOrder) {
  std::mt19937 random(20261128);
  auto pick = [&](size_t low, size_t high) {
    return std::uniform_int_distribution<size_t>(low, high)(random);
  };
  for (Fds fds : {Fds::REFUSED, Fds::ACCEPTED}) {
    auto io = kj::setupAsyncIo();
    auto [mine, theirs] = socketPair();
    auto stream = wrapSocket(io, kj::mv(mine), fds);
    std::string sent(4 << 20, '\0');
    for (auto& c : sent) c = static_cast<char>(pick(0, 255));
    size_t sentUpTo = 0;
    std::string got;
    std::vector<char> buffer(256 << 10);
    while (got.size() < sent.size()) {
      size_t maxBytes = pick(0, 3) == 0 ? pick(1, buffer.size()) : pick(1, 600);
      size_t minBytes = kj::min(pick(1, maxBytes), sent.size() - got.size());
      auto read = stream->tryRead(buffer.data(), minBytes, maxBytes);
      while (!read.poll(io.waitScope)) {
        ASSERT_LT(sentUpTo, sent.size()) << "a read waits for bytes that were never sent";
        size_t chunk = kj::min(pick(1, 70000), sent.size() - sentUpTo);
        ssize_t n = send(theirs.get(), sent.data() + sentUpTo, chunk, MSG_DONTWAIT);
        if (n > 0) sentUpTo += n;
      }
      size_t n = read.wait(io.waitScope);
      ASSERT_GE(n, minBytes);
      ASSERT_LE(n, maxBytes);
      got.append(buffer.data(), n);
    }
    EXPECT_TRUE(got == sent) << (fds == Fds::REFUSED ? "read ahead" : "direct")
                             << ": the bytes differ";
  }
}

TEST(SocketStream, ASideThatRefusesFdsHasTheKernelCloseThem) {
  auto io = kj::setupAsyncIo();
  auto [mine, theirs] = socketPair();
  auto sender = wrapSocket(io, kj::mv(theirs), Fds::ACCEPTED);
  auto refusing = wrapSocket(io, kj::mv(mine), Fds::REFUSED);
  int pipeFds[2];
  ASSERT_EQ(pipe2(pipeFds, O_CLOEXEC), 0);
  kj::AutoCloseFd pipeRead(pipeFds[0]), pipeWrite(pipeFds[1]);
  kj::byte data[1] = {'x'};
  int fds[1] = {pipeWrite.get()};
  sender->writeWithFds(data, nullptr, fds).wait(io.waitScope);
  pipeWrite = nullptr;
  char buffer[1];
  kj::AutoCloseFd received[1];
  auto result = refusing->tryReadWithFds(buffer, 1, 1, received, 1).wait(io.waitScope);
  EXPECT_EQ(result.byteCount, 1u);
  EXPECT_EQ(result.capCount, 0u);
  fcntl(pipeRead.get(), F_SETFL, O_NONBLOCK);
  char b;
  EXPECT_EQ(read(pipeRead.get(), &b, 1), 0) << "EOF: the refused write end was closed";
}

TEST(SocketStream, WritesOfOneTurnLeaveTogetherWhenTheLoopRunsOutOfWork) {
  auto io = kj::setupAsyncIo();
  auto [mine, theirs] = socketPair();
  auto stream = wrapSocket(io, kj::mv(mine), Fds::ACCEPTED);
  stream->write("ab", 2).wait(io.waitScope);
  stream->write("cd", 2).wait(io.waitScope);
  char buffer[8];
  EXPECT_EQ(recv(theirs.get(), buffer, sizeof(buffer), MSG_DONTWAIT), -1)
      << "sent before the turn ended";
  io.waitScope.poll();
  ASSERT_EQ(recv(theirs.get(), buffer, sizeof(buffer), MSG_DONTWAIT), 4);
  EXPECT_EQ(std::string(buffer, 4), "abcd");
}

TEST(SocketStream, AMessageWithFdsFollowsWhatWasGatheredAndKeepsItsFds) {
  auto io = kj::setupAsyncIo();
  auto [mine, theirs] = socketPair();
  auto sender = wrapSocket(io, kj::mv(mine), Fds::ACCEPTED);
  sender->write("a", 1).wait(io.waitScope);  // gathered, not yet sent
  int devNull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  kj::AutoCloseFd owned(devNull);
  kj::byte data[1] = {'b'};
  int fds[1] = {devNull};
  sender->writeWithFds(data, nullptr, fds).wait(io.waitScope);

  auto receiver = wrapSocket(io, kj::mv(theirs), Fds::ACCEPTED);
  char buffer[1];
  kj::AutoCloseFd received[1];
  auto first = receiver->tryReadWithFds(buffer, 1, 1, received, 1).wait(io.waitScope);
  EXPECT_EQ(buffer[0], 'a');
  EXPECT_EQ(first.capCount, 0u);
  auto second = receiver->tryReadWithFds(buffer, 1, 1, received, 1).wait(io.waitScope);
  EXPECT_EQ(buffer[0], 'b');
  EXPECT_EQ(second.capCount, 1u) << "the fd must arrive with its own message's first byte";
}

TEST(SocketStream, OnceAWriteFailedLaterWritesFail) {
  auto io = kj::setupAsyncIo();
  auto [mine, theirs] = socketPair();
  auto stream = wrapSocket(io, kj::mv(mine), Fds::ACCEPTED);
  theirs = nullptr;
  signal(SIGPIPE, SIG_IGN);
  stream->write("x", 1).wait(io.waitScope);  // gathered: its failure shows when it is sent
  io.waitScope.poll();
  EXPECT_ANY_THROW(stream->write("y", 1).wait(io.waitScope));
}

TEST(SocketStream, ShutdownWriteSendsWhatWasGatheredFirst) {
  auto io = kj::setupAsyncIo();
  auto [mine, theirs] = socketPair();
  auto stream = wrapSocket(io, kj::mv(mine), Fds::ACCEPTED);
  stream->write("last", 4).wait(io.waitScope);
  stream->shutdownWrite();
  char buffer[8];
  ASSERT_EQ(recv(theirs.get(), buffer, sizeof(buffer), 0), 4);
  EXPECT_EQ(recv(theirs.get(), buffer, sizeof(buffer), 0), 0) << "then end of stream";
}

}  // namespace
}  // namespace airlock::rpc

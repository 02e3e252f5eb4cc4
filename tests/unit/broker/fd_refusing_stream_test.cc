#include "broker/supervisor/fd_refusing_stream.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <kj/async-io.h>

namespace airlock::broker {
namespace {

// Sends one byte with `fd` attached (SCM_RIGHTS) on `socket`.
void sendWithFd(int socket, int fd) {
  char byte = 'x';
  iovec io = {&byte, 1};
  char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(header), &fd, sizeof(int));
  ASSERT_EQ(sendmsg(socket, &message, 0), 1);
}

TEST(FdRefusingStream, AFdAttachedByThePeerIsNeitherDeliveredNorKeptOpen) {
  auto io = kj::setupAsyncIo();
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  kj::AutoCloseFd brokerEnd(pair[0]), workerEnd(pair[1]);
  int pipeFds[2];
  ASSERT_EQ(pipe2(pipeFds, O_CLOEXEC), 0);
  kj::AutoCloseFd pipeRead(pipeFds[0]);
  {
    kj::AutoCloseFd pipeWrite(pipeFds[1]);
    sendWithFd(workerEnd.get(), pipeWrite.get());
  }  // the sender's copy of the write end is gone; only the in-flight one remains

  FdRefusingStream stream(io.lowLevelProvider->wrapUnixSocketFd(
      kj::mv(brokerEnd), kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP), "test worker");
  char buffer[1];
  kj::AutoCloseFd received[4];
  auto result = stream.tryReadWithFds(buffer, 1, 1, received, 4).wait(io.waitScope);
  EXPECT_EQ(result.byteCount, 1u);
  EXPECT_EQ(result.capCount, 0u);
  for (auto& fd : received) EXPECT_EQ(fd.get(), -1);

  // If any copy of the write end were still open (in the broker), this read would block.
  fcntl(pipeRead.get(), F_SETFL, O_NONBLOCK);
  char b;
  EXPECT_EQ(read(pipeRead.get(), &b, 1), 0) << "EOF: the kernel closed the refused fd";
}

TEST(FdRefusingStream, FdsTheBrokerSendsStillArrive) {
  auto io = kj::setupAsyncIo();
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  kj::AutoCloseFd workerEnd(pair[1]);
  FdRefusingStream stream(io.lowLevelProvider->wrapUnixSocketFd(
      kj::AutoCloseFd(pair[0]), kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP), "test worker");
  int devNull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  kj::AutoCloseFd owned(devNull);
  kj::byte data[1] = {'y'};
  int fds[1] = {devNull};
  stream.writeWithFds(data, nullptr, fds).wait(io.waitScope);

  auto peer = io.lowLevelProvider->wrapUnixSocketFd(
      kj::mv(workerEnd), kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
  char buffer[1];
  kj::AutoCloseFd received[1];
  auto result = peer->tryReadWithFds(buffer, 1, 1, received, 1).wait(io.waitScope);
  EXPECT_EQ(result.capCount, 1u);
  EXPECT_GE(received[0].get(), 0);
}

}  // namespace
}  // namespace airlock::broker

#include "tests/integration/support/echo_server.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <kj/debug.h>

#include <cstring>
#include <memory>

namespace airlock::testing {

namespace {

// Binds 127.0.0.1 with a port the kernel picks; returns the port.
uint16_t bindLoopback(int fd) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  KJ_SYSCALL(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)));
  socklen_t length = sizeof(address);
  KJ_SYSCALL(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length));
  return ntohs(address.sin_port);
}

// Binds ::1 (IPv6 only) with a port the kernel picks; returns the port.
uint16_t bindLoopback6(int fd) {
  int only = 1;
  KJ_SYSCALL(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof(only)));
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  KJ_SYSCALL(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)));
  socklen_t length = sizeof(address);
  KJ_SYSCALL(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length));
  return ntohs(address.sin6_port);
}

void echo(int fd) {
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
    if (write(fd, buffer, static_cast<size_t>(n)) != n) return;
  }
}

}  // namespace

EchoServer::EchoServer(kj::AutoCloseFd listener, uint16_t port)
    : listener_(kj::mv(listener)), port_(port) {
  KJ_SYSCALL(listen(listener_.get(), 16));
  thread_ = std::thread([this]() { serve(); });
}

EchoServer EchoServer::tcp() {
  int fd;
  KJ_SYSCALL(fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  kj::AutoCloseFd listener(fd);
  uint16_t port = bindLoopback(fd);
  return EchoServer(kj::mv(listener), port);
}

EchoServer EchoServer::tcp6() {
  int fd;
  KJ_SYSCALL(fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  kj::AutoCloseFd listener(fd);
  uint16_t port = bindLoopback6(fd);
  return EchoServer(kj::mv(listener), port);
}

EchoServer EchoServer::unix(const std::string& path) {
  int fd;
  KJ_SYSCALL(fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  kj::AutoCloseFd listener(fd);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  KJ_REQUIRE(path.size() < sizeof(address.sun_path), "socket path too long", path);
  memcpy(address.sun_path, path.c_str(), path.size() + 1);
  KJ_SYSCALL(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), path);
  return EchoServer(kj::mv(listener), 0);
}

// Polls so the destructor can stop it without racing a blocked accept.
void EchoServer::serve() {
  while (!stopping_.load()) {
    pollfd ready{listener_.get(), POLLIN, 0};
    if (poll(&ready, 1, 50) <= 0) continue;
    int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    kj::AutoCloseFd connection(fd);
    accepted_.fetch_add(1);
    echo(connection.get());
  }
}

EchoServer::~EchoServer() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

RefusingPort::RefusingPort() {
  int fd;
  KJ_SYSCALL(fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  socket_ = kj::AutoCloseFd(fd);
  port_ = bindLoopback(fd);
}

}  // namespace airlock::testing

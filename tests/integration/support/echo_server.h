#pragma once
// Listeners a test starts itself for net.connect: an echo server on 127.0.0.1, on ::1 or on a
// Unix socket path (each connection gets back every byte it sends, until it half-closes), and a
// TCP port that refuses connections. Loopback only; stopped when the object dies.

#include <kj/io.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace airlock::testing {

class EchoServer {
 public:
  static EchoServer tcp();                           // 127.0.0.1, a port the kernel picks
  static EchoServer tcp6();                          // ::1 (IPv6 only), a port the kernel picks
  static EchoServer unix(const std::string& path);   // binds `path` (which must not exist)
  EchoServer(EchoServer&& other) = delete;
  ~EchoServer();

  uint16_t port() const { return port_; }  // TCP only
  int accepted() const { return accepted_.load(); }  // connections accepted so far

 private:
  explicit EchoServer(kj::AutoCloseFd listener, uint16_t port);
  void serve();

  kj::AutoCloseFd listener_;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// A TCP port on 127.0.0.1 that is bound but not listening: a connect to it is refused
// (ECONNREFUSED) for as long as this object lives, and nothing else can take the port.
class RefusingPort {
 public:
  RefusingPort();
  uint16_t port() const { return port_; }

 private:
  kj::AutoCloseFd socket_;
  uint16_t port_ = 0;
};

}  // namespace airlock::testing

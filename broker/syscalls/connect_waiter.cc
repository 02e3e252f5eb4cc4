#include "broker/syscalls/connect_waiter.h"

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "broker/caps/net_dialer.h"

namespace airlock::broker::syscalls {

namespace _ {

std::atomic<int> waiters{0};

int connectOutcome(int socket) {
  struct pollfd wait = {socket, POLLOUT, 0};
  int timeoutMs = static_cast<int>(CONNECT_TIMEOUT / kj::MILLISECONDS);
  int ready;
  do {
    ready = poll(&wait, 1, timeoutMs);
  } while (ready < 0 && errno == EINTR);
  if (ready == 0) return ETIMEDOUT;
  if (ready < 0) return errno;
  int error = 0;
  socklen_t length = sizeof(error);
  if (getsockopt(socket, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

}  // namespace _

bool answerWhenConnected(kj::AutoCloseFd listener, uint64_t id, kj::AutoCloseFd socket) {
  if (_::waiters.fetch_add(1) >= MAX_CONNECT_WAITERS) {
    _::waiters.fetch_sub(1);
    return false;
  }
  // Plain numbers in the closure (kj::AutoCloseFd's destructor may throw, which std::thread's
  // state may not); the thread closes both itself.
  std::thread([listenerFd = listener.release(), id, socketFd = socket.release()]() {
    int error = _::connectOutcome(socketFd);
    struct seccomp_notif_resp response;
    memset(&response, 0, sizeof(response));
    response.id = id;
    response.error = -error;
    // ENOENT: the program (or its thread) is gone; nobody is left to tell.
    (void)ioctl(listenerFd, SECCOMP_IOCTL_NOTIF_SEND, &response);
    close(socketFd);
    close(listenerFd);
    _::waiters.fetch_sub(1);
  }).detach();
  return true;
}

}  // namespace airlock::broker::syscalls

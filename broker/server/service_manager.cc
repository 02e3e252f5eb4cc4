#include "broker/server/service_manager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace airlock::broker {

namespace _ {

// sd_listen_fds(3): passed sockets start at fd 3.
constexpr int SD_LISTEN_FDS_START = 3;

std::string takeVariable(const char* name) {
  const char* value = getenv(name);
  std::string out = value != nullptr ? value : "";
  unsetenv(name);
  return out;
}

int socketOption(int fd, int option) {
  int value = 0;
  socklen_t length = sizeof(value);
  if (getsockopt(fd, SOL_SOCKET, option, &value, &length) != 0) return -1;
  return value;
}

// What fd is, if it is not airlockd's kind of listening socket; empty if it is.
std::string checkListeningSocket(int fd, const std::string& expectedPath) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return std::string("fstat: ") + strerror(errno) + " (no fd 3)";
  if (!S_ISSOCK(st.st_mode)) return "fd 3 is not a socket";
  if (socketOption(fd, SO_DOMAIN) != AF_UNIX) return "fd 3 is not an AF_UNIX socket";
  if (socketOption(fd, SO_TYPE) != SOCK_STREAM) return "fd 3 is not a stream socket";
  if (socketOption(fd, SO_ACCEPTCONN) != 1) return "fd 3 is not listening (listen() not called)";
  sockaddr_un bound {};
  socklen_t length = sizeof(bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    return std::string("getsockname: ") + strerror(errno);
  }
  size_t pathBytes = length > offsetof(sockaddr_un, sun_path)
                         ? strnlen(bound.sun_path, length - offsetof(sockaddr_un, sun_path))
                         : 0;
  std::string path(bound.sun_path, pathBytes);
  if (path != expectedPath) {
    return "fd 3 is bound to \"" + path + "\", not to --socket " + expectedPath +
           " (make ListenStream= and --socket the same path)";
  }
  return {};
}

}  // namespace _

kj::Maybe<kj::Own<ServiceNotifier>> ServiceNotifier::fromEnvironment(std::string& error) {
  std::string name = _::takeVariable("NOTIFY_SOCKET");
  if (name.empty()) return nullptr;
  sockaddr_un address {};
  address.sun_family = AF_UNIX;
  if (name[0] != '/' && name[0] != '@') {
    error = "NOTIFY_SOCKET \"" + name + "\": expected an absolute path or an @abstract name";
    return nullptr;
  }
  if (name.size() >= sizeof(address.sun_path)) {
    error = "NOTIFY_SOCKET \"" + name + "\": longer than a Unix socket address holds";
    return nullptr;
  }
  memcpy(address.sun_path, name.data(), name.size());
  // An abstract name starts with a NUL and is exactly as long as given (no terminator).
  if (name[0] == '@') address.sun_path[0] = '\0';
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                            (name[0] == '/' ? 1 : 0));
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("NOTIFY_SOCKET: socket(AF_UNIX, SOCK_DGRAM): ") + strerror(errno);
    return nullptr;
  }
  return kj::heap<ServiceNotifier>(kj::AutoCloseFd(fd), address, length);
}

ServiceNotifier::ServiceNotifier(kj::AutoCloseFd fd, sockaddr_un address, socklen_t length)
    : fd_(kj::mv(fd)), address_(address), length_(length) {}

void ServiceNotifier::notify(const std::string& state) {
  iovec part{const_cast<char*>(state.data()), state.size()};
  msghdr message {};
  message.msg_name = &address_;
  message.msg_namelen = length_;
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  if (sendmsg(fd_.get(), &message, MSG_NOSIGNAL) < 0) {
    spdlog::warn("cannot notify the service manager ({}): sendmsg: {}", state, strerror(errno));
  }
}

kj::Maybe<kj::AutoCloseFd> takeActivatedSocket(const std::string& expectedPath,
                                               std::string& error) {
  std::string pid = _::takeVariable("LISTEN_PID");
  std::string fds = _::takeVariable("LISTEN_FDS");
  _::takeVariable("LISTEN_FDNAMES");
  if (pid.empty() && fds.empty()) return nullptr;
  // sd_listen_fds(3): variables meant for another process (e.g. a parent's) are ignored.
  if (pid != std::to_string(getpid())) return nullptr;
  if (fds != "1") {
    error = "LISTEN_FDS=" + fds + ": airlockd takes exactly one socket, its host socket "
            "(Accept=no and one ListenStream= in the .socket unit)";
    return nullptr;
  }
  std::string problem = _::checkListeningSocket(_::SD_LISTEN_FDS_START, expectedPath);
  if (!problem.empty()) {
    error = "LISTEN_FDS: " + problem + "; refusing it";
    return nullptr;
  }
  // From here it is ours: close-on-exec, so no worker can inherit the host socket.
  if (fcntl(_::SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC) != 0) {
    error = std::string("LISTEN_FDS: fcntl(3, F_SETFD, FD_CLOEXEC): ") + strerror(errno);
    return nullptr;
  }
  return kj::AutoCloseFd(_::SD_LISTEN_FDS_START);
}

}  // namespace airlock::broker

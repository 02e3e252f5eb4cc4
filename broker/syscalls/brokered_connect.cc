// The sockets a program makes and connects itself (socket(2), connect(2)), brokered: a stream
// socket of a family the unit's net.connect rules name is made in the sandbox's own network
// namespace (which reaches nothing); its connect is decided by the same rules as the SDK's
// net.connect, recorded, and done by the broker on a socket of its own, which then replaces the
// program's in the same descriptor slot. The program ends up holding a connected socket, made
// where the broker is, to exactly the address that was decided.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "broker/caps/call_scope.h"
#include "broker/caps/fs_request.h"
#include "broker/caps/open_beneath.h"
#include "broker/caps/worker_requests.h"
#include "broker/policy/decide/decide_net.h"
#include "broker/policy/model/path_pattern.h"
#include "broker/syscalls/brokered_call.h"
#include "broker/syscalls/brokered_call_steps.h"
#include "broker/syscalls/connect_waiter.h"
#include "broker/syscalls/syscall_answer.h"
#include "broker/syscalls/worker_memory.h"
#include "broker/syscalls/worker_paths.h"

namespace airlock::broker::syscalls {

namespace _ {

int socketOption(int fd, int option) {
  int value = -1;
  socklen_t length = sizeof(value);
  return getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0 ? value : -1;
}

// Whether descriptor `fd` of thread `tid`'s process is close-on-exec (/proc/TID/fdinfo/FD's
// octal "flags"), so the socket put in its place keeps that. Unreadable: close-on-exec, the
// choice that leaks nothing into a program it executes.
bool closeOnExecOf(pid_t tid, int fd) {
  std::ifstream info("/proc/" + std::to_string(tid) + "/fdinfo/" + std::to_string(fd));
  std::string line;
  while (std::getline(info, line)) {
    unsigned long flags = 0;
    if (line.starts_with("flags:") && sscanf(line.c_str() + 6, "%lo", &flags) == 1) {
      return flags & O_CLOEXEC;
    }
  }
  return true;
}

}  // namespace _

bool unitConnectsTcp(const policy::UnitPolicy& unit) {
  for (auto& rule : unit.rules) {
    if (rule.operation == policy::Operation::NET_CONNECT && rule.effect == policy::Effect::ALLOW &&
        !rule.net().isUnixSocketRule()) {
      return true;
    }
  }
  return false;
}

bool unitConnectsUnix(const policy::UnitPolicy& unit) {
  for (auto& rule : unit.rules) {
    if (rule.operation == policy::Operation::NET_CONNECT && rule.effect == policy::Effect::ALLOW &&
        rule.net().isUnixSocketRule()) {
      return true;
    }
  }
  return false;
}

void BrokeredCall::socket(int domainArg, int typeArg) {
  int domain = static_cast<int>(arg(domainArg));
  int type = static_cast<int>(arg(typeArg)) & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  bool tcp = (domain == AF_INET || domain == AF_INET6) && unitConnectsTcp(*broker_.unit_);
  bool local = domain == AF_UNIX && unitConnectsUnix(*broker_.unit_);
  if (type == SOCK_STREAM && (tcp || local)) {
    // Made by the kernel in the sandbox's network namespace, where it reaches nothing until its
    // connect is brokered. Only numbers are passed, which the program cannot change after they
    // were read: nothing is re-read.
    leftToKernel();
    return;
  }
  // What Docker's default profile answers a refused socket(2): glibc's lookups then skip nscd.
  answerError(EPERM);
}

void BrokeredCall::connect(int fdArg, int addressArg, int lengthArg) {
  // Receive: the address, copied once; then the program's socket, by a copy of its descriptor.
  int slot = dirfd(fdArg);
  uint64_t length = arg(lengthArg);
  sockaddr_storage address;
  memset(&address, 0, sizeof(address));
  if (length < sizeof(sa_family_t) || length > sizeof(address)) return answerError(EINVAL);
  int error = 0;
  if (!readBytes(call_.pid, arg(addressArg), &address, length, error)) return answerError(error);
  long copy = syscall(SYS_pidfd_getfd, pidfd_, slot, 0);
  if (copy < 0) return answerError(EBADF);
  kj::AutoCloseFd theirs(static_cast<int>(copy));
  if (!stillPending(listenerFd_, call_)) return;
  struct stat st;
  if (fstat(theirs.get(), &st) != 0 || !S_ISSOCK(st.st_mode)) return answerError(ENOTSOCK);
  int domain = _::socketOption(theirs.get(), SO_DOMAIN);
  int type = _::socketOption(theirs.get(), SO_TYPE);
  int protocol = _::socketOption(theirs.get(), SO_PROTOCOL);
  sockaddr_storage peer;
  socklen_t peerLength = sizeof(peer);
  if (getpeername(theirs.get(), reinterpret_cast<sockaddr*>(&peer), &peerLength) == 0) {
    return answerError(EISCONN);  // a socketpair end, or a socket the broker connected before
  }
  if (address.ss_family != domain) return answerError(EAFNOSUPPORT);
  bool nonBlocking = fcntl(theirs.get(), F_GETFL) & O_NONBLOCK;
  ++broker_.brokered_;

  // Decide, on the copy: TCP by address and port, Unix by path.
  auto rec = baseRecord(requests::NET_CONNECT.event.data());
  policy::Decision decision;
  std::string unixRoot, unixPath;
  auto& sockaddress = reinterpret_cast<const sockaddr&>(address);
  if (domain == AF_UNIX) {
    auto& un = reinterpret_cast<const sockaddr_un&>(address);
    size_t room = length - offsetof(sockaddr_un, sun_path);
    std::string raw(un.sun_path, strnlen(un.sun_path, std::min(room, sizeof(un.sun_path))));
    if (room == 0 || un.sun_path[0] == '\0') {
      rec.args["unix_path"] = "(abstract)";
      decision = _::refusedByDefault(
          "an abstract Unix socket is not brokered: only a socket with a path a rule can name");
    } else {
      std::string base = raw[0] == '/' ? "" : startingDirectory(pidfd_, call_.pid, AT_FDCWD);
      unixPath = absoluteNormal(base, raw);
      rec.args["unix_path"] = unixPath;
      policy::Refusal refused = policy::validateRequestPath(unixPath);
      decision = refused.refuses() ? _::refusedByDefault(refused.why())
                                  : policy::decideNetConnectUnix(*broker_.unit_, unixPath);
    }
  } else {
    auto ip = policy::IpAddress::fromSockaddr(&sockaddress, static_cast<socklen_t>(length));
    uint16_t port = domain == AF_INET
                        ? ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port)
                        : ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
    if (!ip) return answerError(EINVAL);
    rec.args["host"] = ip->describe();
    rec.args["port"] = port;
    rec.args["address"] = ip->describe();
    decision = policy::decideNetConnect(*broker_.unit_, ip->describe(), port, &*ip);
  }
  if (decision.allowed() && type != SOCK_STREAM) {
    decision = _::refusedByDefault(
        "only a stream socket's connect is brokered: a datagram socket could send anywhere");
  }
  rec.args["socket"] = type == SOCK_STREAM ? "stream" : "other";

  // Act, after the admission is on record: the broker's own socket, connected to the copy.
  kj::AutoCloseFd ours;
  int connectError = 0;
  std::string failure;
  if (decision.allowed()) {
    kj::AutoCloseFd named;  // a Unix socket, named by an O_PATH descriptor beneath the root
    sockaddr_un byDescriptor{};
    const sockaddr* target = &sockaddress;
    socklen_t targetLength = static_cast<socklen_t>(length);
    if (domain == AF_UNIX) {
      unixRoot = decision.rule->net().unixPath.root();
      int rootFd = broker_.roots_.find(unixRoot, failure);
      OpenBeneathResult opened;
      if (rootFd >= 0) opened = openSocketBeneath(rootFd, relativeTo(unixRoot, unixPath));
      if (opened.escapeRefused()) denyEscape(decision, opened.message);
      if (!opened.ok()) {
        connectError = rootFd < 0 ? ENOENT : opened.error;
        if (failure.empty()) failure = opened.message;
      } else {
        named = kj::mv(opened.fd);
        byDescriptor.sun_family = AF_UNIX;
        snprintf(byDescriptor.sun_path, sizeof(byDescriptor.sun_path), "/proc/self/fd/%d",
                 named.get());
        target = reinterpret_cast<const sockaddr*>(&byDescriptor);
        targetLength = sizeof(byDescriptor);
      }
    }
    if (decision.allowed() && connectError == 0) {
      if (!recordAdmitted(broker_.audit_, rec, decision)) return answerError(EIO);
      int made = ::socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
      if (made < 0) {
        connectError = errno;
      } else {
        ours = kj::AutoCloseFd(made);
        if (::connect(made, target, targetLength) != 0) connectError = errno;
      }
      if (connectError != 0 && connectError != EINPROGRESS) {
        failure = std::string("connect: ") + errnoName(connectError) + ": " + strerror(connectError);
        ours = nullptr;
      }
    }
  }

  // Record, then hand over: the broker's socket in the program's slot, as blocking as the
  // program's was; answered 0, EINPROGRESS (a non-blocking socket still connecting), or when a
  // blocking one has connected (connect_waiter.h).
  bool connecting = connectError == EINPROGRESS;
  const char* result = connecting ? "socket passed, connecting" : "socket passed";
  if (!decision.allowed() || ours == nullptr) {
    conclude(rec, decision, connectError == 0 ? EACCES : connectError, failure, result,
             Outcome::PASSED_ON_RECORD, []() {});
    return;
  }
  if (!finish(rec, decision, result)) return answerError(EIO);  // closed unseen
  if (!nonBlocking) fcntl(ours.get(), F_SETFL, fcntl(ours.get(), F_GETFL) & ~O_NONBLOCK);
  int replaced = replaceDescriptor(listenerFd_, call_, ours.get(), slot,
                                   _::closeOnExecOf(call_.pid, slot));
  if (replaced == ENOENT) return;  // the thread is gone
  if (replaced != 0) return answerError(replaced);
  if (!connecting) return answerValue(0);
  if (nonBlocking) return answerError(EINPROGRESS);
  int listener = fcntl(listenerFd_, F_DUPFD_CLOEXEC, 0);
  if (listener < 0 ||
      !answerWhenConnected(kj::AutoCloseFd(listener), call_.id, kj::mv(ours))) {
    answerError(EAGAIN);  // too many connects waiting: the program may try again
  }
}

}  // namespace airlock::broker::syscalls

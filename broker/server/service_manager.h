#pragma once
// airlockd under a service manager such as systemd: the readiness protocol (sd_notify: one
// datagram of "KEY=VALUE" lines to the AF_UNIX socket named by $NOTIFY_SOCKET) and socket
// activation (one listening socket at fd 3, named by $LISTEN_FDS and $LISTEN_PID). Both are
// small, stable protocols (systemd's sd_notify(3) and sd_listen_fds(3) man pages), implemented
// here in a few lines rather than by linking libsystemd, whose headers are not part of the build
// and which would tie airlockd to systemd where any manager speaking the protocol will do.
//
// Called by main() only, before any thread or child exists: each reads its variables and unsets
// them, so no worker inherits them.

#include <sys/socket.h>
#include <sys/un.h>

#include <kj/io.h>
#include <kj/memory.h>

#include <string>

namespace airlock::broker {

class ServiceNotifier {
 public:
  // Reads and unsets NOTIFY_SOCKET: a filesystem path, or '@' for an abstract-namespace name.
  // Null when it is unset (airlockd was not started by a service manager that waits for it).
  // Returns null and sets `error` for an address that cannot be used (relative, too long).
  static kj::Maybe<kj::Own<ServiceNotifier>> fromEnvironment(std::string& error);

  ServiceNotifier(kj::AutoCloseFd fd, sockaddr_un address, socklen_t length);

  void notify(const std::string& state);
  // Sends `state` ("READY=1", "STOPPING=1", "STATUS=...", lines joined by '\n') as one datagram.
  // A failure is logged, never fatal: the manager is being told, not asked.

 private:
  kj::AutoCloseFd fd_;
  sockaddr_un address_;
  socklen_t length_;
};

// Socket activation. If LISTEN_PID is this process, takes fd 3 as airlockd's host socket (close-
// on-exec from here on) after checking that LISTEN_FDS is 1 and that fd 3 is a listening
// AF_UNIX stream socket bound to `expectedPath` (airlockd's --socket, so the unit files cannot
// disagree unseen). Unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES either way. Null when not
// socket-activated; null with `error` set when the variables are set for this process but any
// check fails.
kj::Maybe<kj::AutoCloseFd> takeActivatedSocket(const std::string& expectedPath,
                                               std::string& error);

}  // namespace airlock::broker

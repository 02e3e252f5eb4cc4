#pragma once
// How many host connections airlockd holds at once, in all and before they authenticate. Each
// connection holds a file descriptor and buffers; without a cap ~1,024 idle connections from
// any local process took airlockd to EMFILE ("Too many open files"), and it exited without its
// closing checkpoint. A connection over a cap is accepted and closed at once, the refusal
// recorded (rate-limited: limit_records.h). Event-loop thread only; one per HostListener.

#include <sys/types.h>

#include <kj/memory.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "broker/host/gateway.h"

namespace airlock::broker {

// All host connections at once. A deployment has a handful of host processes, each with a few
// connections; 1,024 is far above that and, with the soft RLIMIT_NOFILE raised to the hard limit
// at start (main.cc), far below the descriptors airlockd has. Lowered to a quarter of the
// descriptor limit when that is small, so workers and the log always have descriptors left.
inline constexpr size_t MAX_HOST_CONNECTIONS = 1024;
// Connections that have not authenticated yet: a handshake takes a few round trips, so a
// legitimate client holds one for milliseconds; 64 at once is many clients starting together.
inline constexpr size_t MAX_UNAUTHENTICATED_CONNECTIONS = 64;
// ... and of those, from one uid: a flooding uid keeps at most this many of the 64, so it cannot
// lock other users' clients out of the handshake.
inline constexpr size_t MAX_UNAUTHENTICATED_CONNECTIONS_PER_UID = 8;

size_t hostConnectionCap(size_t openFilesLimit);
// MAX_HOST_CONNECTIONS, or a quarter of `openFilesLimit` (RLIMIT_NOFILE's soft value) if that is
// smaller, at least 1.

class ConnectionLimits {
 public:
  explicit ConnectionLimits(size_t maxConnections) : maxConnections_(maxConnections) {}

  struct Refusal {
    std::string bound;   // "broker.max_host_connections", ... (SECURITY.md names them)
    std::string reason;  // the count and the cap
  };
  std::optional<Refusal> refusal(uid_t uid) const;  // why a new connection from `uid` is refused

  // Places for a new connection from `uid`, which refusal() admitted: its place among all
  // connections (kept by the connection until it closes) and among the unauthenticated ones
  // (HostConnectionState::preAuth, dropped when the handshake succeeds).
  struct Places {
    kj::Own<HeldPlace> connection;
    kj::Own<HeldPlace> preAuth;
  };
  Places take(uid_t uid);

  size_t connections() const { return connections_; }
  size_t unauthenticated() const { return unauthenticated_; }

 private:
  class ConnectionPlace;
  class UnauthenticatedPlace;

  size_t maxConnections_;
  size_t connections_ = 0;
  size_t unauthenticated_ = 0;
  std::map<uid_t, size_t> unauthenticatedByUid_;
};

}  // namespace airlock::broker

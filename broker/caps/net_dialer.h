#pragma once
// How the broker reaches the network for net.connect: name lookups on their own threads, and
// non-blocking connects waited for on the event loop, each under a deadline, so a slow resolver
// or a peer that never answers holds up only the request that asked, never airlockd.
// Built once by main(); event-loop thread only.

#include <sys/socket.h>

#include <kj/async-unix.h>
#include <kj/io.h>
#include <kj/timer.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "broker/policy/model/net_address.h"

namespace airlock::broker {

// A lookup that has not answered by then is given up (the request fails, the thread finishes on
// its own): resolv.conf's default is 5 s per server and several tries.
inline constexpr kj::Duration RESOLVE_TIMEOUT = 3 * kj::SECONDS;
// A peer that has not accepted by then is given up (SYNs to a black hole retry for minutes).
inline constexpr kj::Duration CONNECT_TIMEOUT = 5 * kj::SECONDS;
// Lookups on their threads at once, over all workers: a worker asking for names that never
// resolve must not make airlockd start a thread per request.
inline constexpr int MAX_LOOKUPS_IN_FLIGHT = 16;
// Addresses one name may resolve to that the broker keeps (getaddrinfo order).
inline constexpr size_t MAX_ADDRESSES_PER_NAME = 8;

struct Resolved {
  std::vector<policy::IpAddress> addresses;  // in getaddrinfo order, duplicates removed
  std::string error;                          // why there are none: "EAI_NONAME: ..."
};

struct Dialed {
  kj::AutoCloseFd fd;  // connected, blocking, close-on-exec; valid on success
  std::string error;   // "ECONNREFUSED: Connection refused", "no answer within 5 s"
  bool ok() const { return fd.get() >= 0; }
};

class NetDialer {
 public:
  NetDialer(kj::UnixEventPort& events, kj::Timer& timer) : events_(events), timer_(timer) {}

  kj::Promise<Resolved> resolve(std::string host);
  // An IP literal in any spelling getaddrinfo reads as one (IpAddress::parseAsResolver) answers
  // at once without DNS; a name is looked up (getaddrinfo, TCP, any family) on a detached
  // thread, answered within RESOLVE_TIMEOUT, or refused when MAX_LOOKUPS_IN_FLIGHT are already
  // running.

  kj::Promise<Dialed> connect(const policy::IpAddress& address, uint16_t port);
  // Connects to exactly `address` (a decided one). Fails without a syscall for an address
  // policy::neverConnectedReason refuses.
  kj::Promise<Dialed> connectUnix(const std::string& path);
  // `path` must fit sockaddr_un (at most 107 bytes); the caller chose it (net.cc uses
  // /proc/self/fd/N of a socket it opened beneath its root).

 private:
  kj::Promise<Dialed> dial(int family, const sockaddr* address, socklen_t length);

  kj::UnixEventPort& events_;
  kj::Timer& timer_;
  // Counted by the lookup threads themselves, which may outlive a request (and this object).
  std::shared_ptr<std::atomic<int>> lookupsInFlight_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace airlock::broker

#include "broker/caps/net_dialer.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <kj/debug.h>
#include <kj/thread.h>

#include "broker/caps/open_beneath.h"

namespace airlock::broker {

namespace _ {
namespace {

std::string errnoText(int error) { return std::string(errnoName(error)) + ": " + strerror(error); }

// Runs on the lookup thread: nothing here may touch the event loop.
Resolved lookUp(const std::string& host) {
  Resolved out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int status = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (status != 0) {
    out.error = "name lookup of " + host + " failed: " + gai_strerror(status);
    return out;
  }
  for (addrinfo* at = found; at != nullptr; at = at->ai_next) {
    auto address = policy::IpAddress::fromSockaddr(at->ai_addr, at->ai_addrlen);
    if (!address) continue;
    if (std::find(out.addresses.begin(), out.addresses.end(), *address) != out.addresses.end()) {
      continue;
    }
    out.addresses.push_back(*address);
    if (out.addresses.size() == MAX_ADDRESSES_PER_NAME) break;
  }
  freeaddrinfo(found);
  if (out.addresses.empty()) out.error = "name lookup of " + host + " found no IP address";
  return out;
}

// A socket being connected and the event-port registration watching it. The observer is
// declared last so it is destroyed (and unregistered from epoll) before the fd is closed.
struct Connecting {
  kj::AutoCloseFd fd;
  kj::Maybe<kj::UnixEventPort::FdObserver> observer;
};

// The result of a connect that has completed one way or the other: SO_ERROR says which. Takes
// `fd` only on success; on failure it stays with its owner, which closes it after unregistering
// it from epoll (closing first makes kj's EPOLL_CTL_DEL fail with EBADF, and throw).
Dialed finish(kj::AutoCloseFd& fd) {
  Dialed out;
  int error = 0;
  socklen_t size = sizeof(error);
  if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
  if (error != 0) {
    out.error = errnoText(error);
    return out;
  }
  // The worker gets an ordinary blocking socket, as fs.open gives it an ordinary file.
  int flags = fcntl(fd.get(), F_GETFL);
  if (flags >= 0) fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  out.fd = kj::mv(fd);
  return out;
}

}  // namespace
}  // namespace _

kj::Promise<Resolved> NetDialer::resolve(std::string host) {
  // Every spelling getaddrinfo would read as an address is that address, and never a lookup.
  if (auto literal = policy::IpAddress::parseAsResolver(host)) return Resolved{{*literal}, {}};
  if (lookupsInFlight_->fetch_add(1) >= MAX_LOOKUPS_IN_FLIGHT) {
    lookupsInFlight_->fetch_sub(1);
    return Resolved{{}, "name lookup of " + host + " refused: " +
                            std::to_string(MAX_LOOKUPS_IN_FLIGHT) +
                            " lookups are already in flight"};
  }
  auto paf = kj::newPromiseAndCrossThreadFulfiller<Resolved>();
  // Detached: getaddrinfo cannot be cancelled, so a lookup past its deadline finishes on its
  // own and its answer is dropped (the fulfiller is then a no-op).
  kj::Thread([host, fulfiller = kj::mv(paf.fulfiller), counter = lookupsInFlight_]() mutable {
    fulfiller->fulfill(_::lookUp(host));
    fulfiller = nullptr;
    counter->fetch_sub(1);
  }).detach();
  return paf.promise.exclusiveJoin(timer_.afterDelay(RESOLVE_TIMEOUT).then([host]() {
    return Resolved{{}, "name lookup of " + host + " gave no answer within " +
                            std::to_string(RESOLVE_TIMEOUT / kj::SECONDS) + " s"};
  }));
}

kj::Promise<Dialed> NetDialer::connect(const policy::IpAddress& address, uint16_t port) {
  // decideNetConnect refuses these before any rule; a second look here keeps a future caller
  // that skips decide from reaching the local host through 0.0.0.0 or ::.
  std::string never = policy::neverConnectedReason(address);
  if (!never.empty()) return Dialed{kj::AutoCloseFd(), "not connected: " + never};
  if (address.family == AF_INET) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    memcpy(&in.sin_addr, address.bytes.data(), 4);
    return dial(AF_INET, reinterpret_cast<const sockaddr*>(&in), sizeof(in));
  }
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(port);
  memcpy(&in6.sin6_addr, address.bytes.data(), 16);
  return dial(AF_INET6, reinterpret_cast<const sockaddr*>(&in6), sizeof(in6));
}

kj::Promise<Dialed> NetDialer::connectUnix(const std::string& path) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  KJ_REQUIRE(path.size() < sizeof(un.sun_path), "Unix socket path too long", path);
  memcpy(un.sun_path, path.c_str(), path.size() + 1);
  return dial(AF_UNIX, reinterpret_cast<const sockaddr*>(&un), sizeof(un));
}

kj::Promise<Dialed> NetDialer::dial(int family, const sockaddr* address, socklen_t length) {
  int raw = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (raw < 0) return Dialed{kj::AutoCloseFd(), "socket: " + _::errnoText(errno)};
  auto connecting = kj::heap<_::Connecting>();
  connecting->fd = kj::AutoCloseFd(raw);
  if (::connect(raw, address, length) == 0) return _::finish(connecting->fd);
  // A Unix socket whose listener's backlog is full answers EAGAIN rather than EINPROGRESS.
  if (errno != EINPROGRESS) return Dialed{kj::AutoCloseFd(), _::errnoText(errno)};
  auto& state = *connecting;
  state.observer.emplace(events_, raw, kj::UnixEventPort::FdObserver::OBSERVE_WRITE);
  KJ_IF_MAYBE(observer, state.observer) {
    auto done = observer->whenBecomesWritable().then([&state]() {
      return _::finish(state.fd);
    });
    return done.attach(kj::mv(connecting))
        .exclusiveJoin(timer_.afterDelay(CONNECT_TIMEOUT).then([]() {
          return Dialed{kj::AutoCloseFd(), "ETIMEDOUT: no answer within " +
                                               std::to_string(CONNECT_TIMEOUT / kj::SECONDS) +
                                               " s"};
        }));
  }
  KJ_UNREACHABLE;
}

}  // namespace airlock::broker

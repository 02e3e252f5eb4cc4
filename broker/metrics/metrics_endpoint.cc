#include "broker/metrics/metrics_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

namespace airlock::broker::metrics {

namespace _ {

constexpr char LOCALHOST[] = "localhost";

// A decimal port, 0..65535, with no sign, space or leading junk.
bool parsePort(const std::string& text, uint16_t& port) {
  if (text.empty() || text.size() > 5) return false;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

// Whether `address` is an IP literal of its family, and loopback (127.0.0.0/8, ::1; an
// IPv4-mapped loopback ::ffff:127.x too, which the kernel routes to the same place).
bool parseAddress(const std::string& address, bool bracketed, bool& loopback) {
  if (bracketed) {
    in6_addr six;
    if (inet_pton(AF_INET6, address.c_str(), &six) != 1) return false;
    bool mappedLoopback = IN6_IS_ADDR_V4MAPPED(&six) && six.s6_addr[12] == 127;
    loopback = IN6_IS_ADDR_LOOPBACK(&six) || mappedLoopback;
    return true;
  }
  in_addr four;
  // inet_pton, not inet_aton: only the dotted-quad spelling, so "127.1" is not a way around
  // reading what the address is.
  if (inet_pton(AF_INET, address.c_str(), &four) != 1) return false;
  loopback = (ntohl(four.s_addr) >> 24) == 127;
  return true;
}

}  // namespace _

std::string MetricsEndpoint::describe() const {
  if (kind == Kind::UNIX_SOCKET) return "unix:" + path;
  bool six = address.find(':') != std::string::npos;
  return (six ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

kj::Maybe<MetricsEndpoint> parseMetricsEndpoint(const std::string& text, RemoteScrapes remote,
                                                std::string& error) {
  MetricsEndpoint endpoint;
  if (text.find('/') != std::string::npos) {
    if (text.find('\0') != std::string::npos || text.size() >= sizeof(sockaddr_un::sun_path)) {
      error = "--metrics \"" + text + "\": a Unix socket path must be shorter than " +
              std::to_string(sizeof(sockaddr_un::sun_path)) + " bytes";
      return nullptr;
    }
    endpoint.path = text;
    return endpoint;
  }
  // A NUL would end the address where inet_pton stops reading but not where the text does: the
  // address airlockd listens on would not be the one the text (and the log line) shows.
  if (text.find('\0') != std::string::npos) {
    error = "--metrics: the address holds a NUL byte";
    return nullptr;
  }
  auto colon = text.rfind(':');
  if (colon == std::string::npos || !_::parsePort(text.substr(colon + 1), endpoint.port)) {
    error = "--metrics \"" + text + "\" is neither a Unix socket path (one with a '/') nor "
            "ADDR:PORT with a port 0..65535; e.g. /run/airlock/metrics.sock or 127.0.0.1:9464";
    return nullptr;
  }
  std::string host = text.substr(0, colon);
  bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  if (host == _::LOCALHOST) host = "127.0.0.1";
  if (!_::parseAddress(host, bracketed, endpoint.loopback)) {
    error = "--metrics \"" + text + "\": ADDR must be an IPv4 address (127.0.0.1), a bracketed "
            "IPv6 address ([::1]) or localhost; names other than localhost are not looked up";
    return nullptr;
  }
  if (!endpoint.loopback && remote == RemoteScrapes::REFUSED) {
    error = "--metrics " + text + " is not a loopback address: every host that can reach it "
            "could read the metrics (units, methods, policy revision). Serve on a Unix socket "
            "path or 127.0.0.1, or pass --metrics-allow-remote to mean it";
    return nullptr;
  }
  endpoint.kind = MetricsEndpoint::Kind::TCP;
  endpoint.address = host;
  return endpoint;
}

}  // namespace airlock::broker::metrics

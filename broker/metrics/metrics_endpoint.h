#pragma once
// Where airlockd serves its metrics (`--metrics PATH|ADDR:PORT`): a Unix socket path, or a TCP
// address. A TCP address other than loopback is refused unless the operator says so
// (`--metrics-allow-remote`): the metrics name units, methods and policy revisions, and a
// scrape costs the broker's event loop a turn, so who may reach them is a decision to make, not
// a default.
// Pure: parses text, touches nothing. Any thread.

#include <kj/common.h>

#include <cstdint>
#include <string>

namespace airlock::broker::metrics {

struct MetricsEndpoint {
  enum class Kind { UNIX_SOCKET, TCP };
  Kind kind = Kind::UNIX_SOCKET;
  std::string path;     // UNIX_SOCKET: the socket file's path
  std::string address;  // TCP: the IP literal, without brackets
  uint16_t port = 0;    // TCP: 0 lets the kernel choose (the log line names the one it chose)
  bool loopback = false;

  std::string describe() const;  // "unix:/run/airlock/metrics.sock", "127.0.0.1:9464", "[::1]:9464"
};

enum class RemoteScrapes { REFUSED, ALLOWED };

// `text` as an endpoint: a path contains a '/' (e.g. /run/airlock/metrics.sock, ./m.sock);
// otherwise ADDR:PORT with ADDR an IPv4 literal, a bracketed IPv6 literal or `localhost`
// (127.0.0.1), PORT 0..65535. Null with `error` set (one line naming the text and what to
// write instead) for anything else, and for a TCP address that is not loopback while remote
// scrapes are REFUSED.
kj::Maybe<MetricsEndpoint> parseMetricsEndpoint(const std::string& text, RemoteScrapes remote,
                                                std::string& error);

}  // namespace airlock::broker::metrics

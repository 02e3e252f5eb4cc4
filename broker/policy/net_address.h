#pragma once
// The values of net.connect rules and requests: IP addresses, address blocks (CIDR), port ranges
// and host names. Pure; shared by the loader, decide and the broker's connect handler.

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace airlock::policy {

// Longest host name a worker may ask for or a rule may list: the DNS limit for a name in text.
inline constexpr size_t MAX_HOST_NAME_BYTES = 253;

struct IpAddress {
  int family = AF_INET;                // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};     // network order; IPv4 uses the first 4
  uint16_t bits() const { return family == AF_INET ? 32 : 128; }

  static std::optional<IpAddress> parse(std::string_view text);
  // An IPv4 dotted quad or an IPv6 literal (inet_pton), no brackets, no zone ("%eth0"). An
  // IPv4-mapped IPv6 address (::ffff:a.b.c.d) comes back as the IPv4 address it reaches, so a
  // rule for 10.0.0.0/8 decides ::ffff:10.0.0.1 too.
  static std::optional<IpAddress> fromSockaddr(const sockaddr* address, socklen_t length);
  // AF_INET / AF_INET6 only (mapped addresses unmapped, as parse does); nullopt otherwise.

  std::string describe() const;  // inet_ntop form: "127.0.0.1", "::1"
  bool operator==(const IpAddress&) const = default;
};

// A literal address (a block of one) or a CIDR block from a rule's `host`.
struct IpBlock {
  IpAddress base;
  uint16_t prefixBits = 0;  // 0..32 for IPv4, 0..128 for IPv6

  static std::optional<IpBlock> parse(std::string_view text, std::string& error);
  // "10.0.0.0/8", "::1/128", "127.0.0.1" (= /32), "::1" (= /128). Refuses bits set past the
  // prefix ("10.0.0.1/8": a typo for a single address or for the block?), a prefix out of range,
  // and anything inet_pton does not take; `error` says which.

  bool contains(const IpAddress& address) const;  // same family and the prefix bits agree
  bool isEverything() const { return prefixBits == 0; }  // 0.0.0.0/0 or ::/0
  std::string describe() const;  // canonical "10.0.0.0/8"
  bool operator==(const IpBlock&) const = default;
};

struct PortRange {
  uint16_t low = 1, high = 65535;
  bool contains(uint16_t port) const { return port >= low && port <= high; }
  std::string describe() const;  // "443" or "8000-8999"
  bool operator==(const PortRange&) const = default;
};

std::optional<PortRange> parsePortRange(std::string_view text, std::string& error);
// A rule's string entry "LO-HI", 1 <= LO <= HI <= 65535, digits only.

std::string validateRuleHostName(std::string_view name);
// "" if `name` is a lowercase DNS name: labels of [a-z0-9-]{1,63}, not starting or ending with
// '-', separated by single dots, at most MAX_HOST_NAME_BYTES; otherwise why not.

std::string validateRequestHost(std::string_view host);
// "" if `host`, as a worker sent it, is an IP literal or a DNS name (letters of either case,
// digits, '-', '.'), at most MAX_HOST_NAME_BYTES; otherwise why it is refused before any rule.

}  // namespace airlock::policy

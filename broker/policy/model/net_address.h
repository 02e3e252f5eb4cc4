#pragma once
// The values of net.connect rules and requests: IP addresses, address blocks (CIDR), port ranges
// and host names. Pure; shared by the loader, decide and the broker's connect handler.

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "broker/policy/model/refusal.h"

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
  // rule for 10.0.0.0/8 decides ::ffff:10.0.0.1 too. The strict form, for policy files; a
  // worker's request is read with parseAsResolver.
  static std::optional<IpAddress> parseAsResolver(std::string_view text);
  // Every text getaddrinfo(3) turns into an address without a lookup, as that address: IPv4 in
  // every form glibc's inet_aton takes whole ("127.1", "0x7f.1", "017700000001", "2130706433",
  // "0": one to four parts, each decimal, octal "0..." or hex "0x...", the last filling the
  // bytes left), else an IPv6 literal as parse reads it (mapped forms unmapped). nullopt means
  // getaddrinfo would look the text up as a name. No whitespace, no trailing dot.
  static std::optional<IpAddress> fromSockaddr(const sockaddr* address, socklen_t length);
  // AF_INET / AF_INET6 only (mapped addresses unmapped, as parse does); nullopt otherwise.

  std::optional<IpAddress> embeddedIpv4() const;
  // The IPv4 address an IPv6 address is translated or tunnelled to on its way: NAT64's
  // well-known prefix 64:ff9b::/96 (RFC 6052), SIIT's ::ffff:0:0:0/96 (RFC 6145) and 6to4's
  // 2002::/16 (RFC 3056, the relay at bytes 2..5). nullopt for IPv4 and for other IPv6.

  std::string describe() const;  // inet_ntop form: "127.0.0.1", "::1"
  bool operator==(const IpAddress&) const = default;
};

std::string neverConnectedReason(const IpAddress& address);
// "" unless the broker connects to `address` under no policy at all; otherwise why, for the
// audit record. Refused: 0.0.0.0/8 and :: (Linux's connect(2) takes both to the local host),
// IPv4-compatible ::a.b.c.d (deprecated; where it is routed it is tunnelled to a.b.c.d), the
// local-use NAT64 prefix 64:ff9b:1::/48 (where its IPv4 address sits is the translator's
// choice, so it cannot be decided), and any address whose embeddedIpv4() is refused.

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

Refusal validateRuleHostName(std::string_view name);
// Passes if `name` is a lowercase DNS name: labels of [a-z0-9-]{1,63}, not starting or ending with
// '-', separated by single dots, at most MAX_HOST_NAME_BYTES, and not text parseAsResolver reads
// as an address ("0x7f000001" is 127.0.0.1 to getaddrinfo); otherwise refuses saying why.

// A worker's `host` as the broker uses it: exactly one of the two is set.
struct RequestHost {
  std::optional<IpAddress> literal;  // the address, for any text parseAsResolver takes
  std::string name;                  // otherwise the DNS name, lowercased (RFC 4343)
};

std::optional<RequestHost> canonicalRequestHost(std::string_view host, std::string& refused);
// `host` as a worker sent it: an address in any form parseAsResolver reads, or a DNS name of
// letters of either case, digits, '-' and '.', at most MAX_HOST_NAME_BYTES. Refused, with
// `refused` saying why: anything else, including a trailing dot ("localhost.") and a name whose
// last label is all digits (no top-level domain is, so it is a mistyped address).

}  // namespace airlock::policy

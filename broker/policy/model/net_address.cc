#include "broker/policy/model/net_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace airlock::policy {

namespace _ {
namespace {

// ::ffff:0:0/96: an IPv6 socket connecting to one of these reaches the IPv4 address in its last
// four bytes, so it is decided as that address (RFC 4291 2.5.5.2).
constexpr uint8_t V4_MAPPED_PREFIX[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

IpAddress unmapped(IpAddress address) {
  if (address.family == AF_INET6 &&
      memcmp(address.bytes.data(), V4_MAPPED_PREFIX, sizeof(V4_MAPPED_PREFIX)) == 0) {
    IpAddress v4;
    v4.family = AF_INET;
    memcpy(v4.bytes.data(), address.bytes.data() + 12, 4);
    return v4;
  }
  return address;
}

// 64:ff9b::/96: NAT64's well-known prefix; the translator connects to the last four bytes.
constexpr uint8_t NAT64_PREFIX[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
// ::ffff:0:0:0/96: SIIT's IPv4-translated addresses (RFC 6145), the last four bytes again.
constexpr uint8_t SIIT_PREFIX[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
// 64:ff9b:1::/48: local-use NAT64 (RFC 8215); the IPv4 bytes sit where the operator's prefix
// length puts them (RFC 6052 2.2), which the broker cannot know.
constexpr uint8_t NAT64_LOCAL_PREFIX[6] = {0, 0x64, 0xff, 0x9b, 0, 0x01};

// One part of an IPv4 address as glibc's inet_aton reads it with strtoul(base 0): "0x" and at
// least one hex digit, else a leading '0' and octal digits, else decimal. Advances `at` past
// the digits; nullopt when the part does not start with a digit or exceeds 32 bits (inet_aton
// refuses both). What follows the digits is the caller's to check.
std::optional<uint32_t> atonPart(std::string_view text, size_t& at) {
  auto isHex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  if (at >= text.size() || text[at] < '0' || text[at] > '9') return std::nullopt;
  unsigned base = 10;
  if (text[at] == '0') {
    base = 8;
    bool hex = at + 2 < text.size() && (text[at + 1] == 'x' || text[at + 1] == 'X') &&
               isHex(text[at + 2]);
    if (hex) {
      base = 16;
      at += 2;
    }
  }
  uint64_t value = 0;
  for (; at < text.size(); ++at) {
    char c = text[at];
    unsigned digit = c >= '0' && c <= '9'   ? unsigned(c - '0')
                     : c >= 'a' && c <= 'f' ? unsigned(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? unsigned(c - 'A' + 10)
                                            : 16;
    if (digit >= base) break;
    value = value * base + digit;
    if (value > 0xffffffffu) return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

// glibc's __inet_aton_exact, which getaddrinfo tries before any lookup: "a.b.c.d", "a.b.c"
// (c is 16 bits), "a.b" (b is 24 bits) or "a" (32 bits), and nothing after.
std::optional<IpAddress> parseInetAton(std::string_view text) {
  constexpr uint32_t LAST_PART_MAX[4] = {0xffffffffu, 0xffffffu, 0xffffu, 0xffu};
  uint8_t leading[3] = {};
  size_t parts = 0, at = 0;
  std::optional<uint32_t> value;
  while (true) {
    value = atonPart(text, at);
    if (!value) return std::nullopt;
    if (at == text.size()) break;
    if (text[at] != '.' || parts == 3 || *value > 0xff) return std::nullopt;
    leading[parts++] = static_cast<uint8_t>(*value);
    ++at;
  }
  if (*value > LAST_PART_MAX[parts]) return std::nullopt;
  uint32_t host = (uint32_t(leading[0]) << 24) | (uint32_t(leading[1]) << 16) |
                  (uint32_t(leading[2]) << 8);
  host |= *value;
  IpAddress address;
  address.bytes[0] = static_cast<uint8_t>(host >> 24);
  address.bytes[1] = static_cast<uint8_t>(host >> 16);
  address.bytes[2] = static_cast<uint8_t>(host >> 8);
  address.bytes[3] = static_cast<uint8_t>(host);
  return address;
}

std::optional<uint32_t> parseNumber(std::string_view text) {
  uint32_t value = 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Labels of `name` with `allowed` characters, 1..63 bytes, no '-' at either end.
bool isDnsName(std::string_view name, bool (*allowed)(char)) {
  if (name.empty() || name.size() > MAX_HOST_NAME_BYTES) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = std::min(name.find('.', start), name.size());
    std::string_view label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!allowed(c)) return false;
    }
    start = end + 1;
  }
  return true;
}

bool lowerDnsChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }
bool anyDnsChar(char c) { return lowerDnsChar(c) || (c >= 'A' && c <= 'Z'); }

}  // namespace
}  // namespace _

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; the longest IPv6 text is 45 bytes.
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  std::string copy(text);
  IpAddress address;
  if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) return address;
  address.family = AF_INET6;
  if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) return _::unmapped(address);
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::parseAsResolver(std::string_view text) {
  // getaddrinfo's own order: inet_aton first, then an IPv6 literal.
  if (auto v4 = _::parseInetAton(text)) return v4;
  if (text.find(':') == std::string_view::npos) return std::nullopt;
  return parse(text);
}

std::optional<IpAddress> IpAddress::embeddedIpv4() const {
  if (family != AF_INET6) return std::nullopt;
  IpAddress v4;
  if (memcmp(bytes.data(), _::NAT64_PREFIX, 12) == 0 ||
      memcmp(bytes.data(), _::SIIT_PREFIX, 12) == 0) {
    memcpy(v4.bytes.data(), bytes.data() + 12, 4);
    return v4;
  }
  if (bytes[0] == 0x20 && bytes[1] == 0x02) {
    memcpy(v4.bytes.data(), bytes.data() + 2, 4);
    return v4;
  }
  return std::nullopt;
}

std::string neverConnectedReason(const IpAddress& address) {
  const auto& b = address.bytes;
  const char* always = "; refused whatever the rules say";
  if (address.family == AF_INET) {
    if (b[0] != 0) return {};
    // Linux routes a connect to 0.0.0.0 (and to the rest of "this network", RFC 1122 3.2.1.3)
    // to the local host, so a policy denying loopback would be bypassed by it.
    return "0.0.0.0/8 is \"this host\": connect(2) to " + address.describe() +
           " reaches the local host" + always;
  }
  static constexpr uint8_t ZERO[12] = {};
  if (memcmp(b.data(), ZERO, 12) == 0) {
    uint32_t last =
        (uint32_t(b[12]) << 24) | (uint32_t(b[13]) << 16) | (uint32_t(b[14]) << 8) | b[15];
    if (last == 0) {
      return "the unspecified address :: : connect(2) to it reaches the local host" +
             std::string(always);
    }
    if (last != 1) {
      return "IPv4-compatible address " + address.describe() +
             " (deprecated, RFC 4291 2.5.5.1; tunnelled to its IPv4 address where routed)" +
             always + "; write the IPv4 address";
    }
    return {};
  }
  if (memcmp(b.data(), _::NAT64_LOCAL_PREFIX, sizeof(_::NAT64_LOCAL_PREFIX)) == 0) {
    return "local-use NAT64 address " + address.describe() +
           " (64:ff9b:1::/48, RFC 8215): the IPv4 address it reaches is placed by the "
           "translator's configuration and cannot be decided" + always;
  }
  if (auto v4 = address.embeddedIpv4()) {
    std::string inner = neverConnectedReason(*v4);
    if (!inner.empty()) {
      return address.describe() + " reaches IPv4 " + v4->describe() + ": " + inner;
    }
  }
  return {};
}

std::optional<IpAddress> IpAddress::fromSockaddr(const sockaddr* address, socklen_t length) {
  IpAddress out;
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    memcpy(out.bytes.data(), &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, 4);
    return out;
  }
  if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    out.family = AF_INET6;
    memcpy(out.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, 16);
    return _::unmapped(out);
  }
  return std::nullopt;
}

std::string IpAddress::describe() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes.data(), text, sizeof(text));
  return text;
}

std::optional<IpBlock> IpBlock::parse(std::string_view text, std::string& error) {
  size_t slash = text.find('/');
  std::optional<IpAddress> base = IpAddress::parse(text.substr(0, slash));
  bool mappedLiteral = base && base->family == AF_INET &&
                       text.substr(0, slash).find(':') != std::string_view::npos;
  if (!base || mappedLiteral) {
    // A mapped literal in a rule would read as IPv6 but decide IPv4 addresses: write it as IPv4.
    error = base ? "write an IPv4-mapped address as the IPv4 address it maps"
                 : "not an IPv4 or IPv6 address, a CIDR block (\"10.0.0.0/8\") or a lowercase "
                   "host name";
    return std::nullopt;
  }
  IpBlock block{*base, base->bits()};
  if (slash != std::string_view::npos) {
    std::optional<uint32_t> bits = _::parseNumber(text.substr(slash + 1));
    if (!bits || *bits > base->bits()) {
      error = "prefix length must be 0.." + std::to_string(base->bits());
      return std::nullopt;
    }
    block.prefixBits = static_cast<uint16_t>(*bits);
  }
  IpBlock masked = block;
  for (uint16_t bit = block.prefixBits; bit < base->bits(); ++bit) {
    masked.base.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  if (masked.base != block.base) {
    error = "has address bits set past the /" + std::to_string(block.prefixBits) +
            " prefix (the block is " + masked.describe() + ")";
    return std::nullopt;
  }
  return block;
}

bool IpBlock::contains(const IpAddress& address) const {
  if (address.family != base.family) return false;
  uint16_t full = prefixBits / 8;
  if (memcmp(address.bytes.data(), base.bytes.data(), full) != 0) return false;
  uint16_t rest = prefixBits % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff00u >> rest);
  return (address.bytes[full] & mask) == (base.bytes[full] & mask);
}

std::string IpBlock::describe() const {
  return base.describe() + "/" + std::to_string(prefixBits);
}

std::string PortRange::describe() const {
  return low == high ? std::to_string(low) : std::to_string(low) + "-" + std::to_string(high);
}

std::optional<PortRange> parsePortRange(std::string_view text, std::string& error) {
  size_t dash = text.find('-');
  std::optional<uint32_t> low, high;
  if (dash != std::string_view::npos) {
    low = _::parseNumber(text.substr(0, dash));
    high = _::parseNumber(text.substr(dash + 1));
  }
  if (!low || !high) {
    error = "expected a port number or a range \"LO-HI\" (e.g. \"8000-8999\")";
    return std::nullopt;
  }
  if (*low < 1 || *high > 65535 || *low > *high) {
    error = "range must satisfy 1 <= LO <= HI <= 65535";
    return std::nullopt;
  }
  return PortRange{static_cast<uint16_t>(*low), static_cast<uint16_t>(*high)};
}

Refusal validateRuleHostName(std::string_view name) {
  if (auto address = IpAddress::parseAsResolver(name)) {
    return Refusal::because("is the address " + address->describe() +
                            " to getaddrinfo (inet_aton's form); write it as " +
                            address->describe());
  }
  std::string_view last = name.substr(name.rfind('.') + 1);
  if (!last.empty() && last.find_first_not_of("0123456789") == std::string_view::npos) {
    // No top-level domain is numeric: this is a mistyped address, not a name.
    return "looks like an IP address but is not one";
  }
  if (_::isDnsName(name, _::lowerDnsChar)) return {};
  return Refusal::because(
      "not a lowercase DNS name (labels of a-z, 0-9 and '-', 1 to 63 bytes each, at most " +
      std::to_string(MAX_HOST_NAME_BYTES) + " bytes)");
}

std::optional<RequestHost> canonicalRequestHost(std::string_view host, std::string& refused) {
  if (host.size() <= MAX_HOST_NAME_BYTES) {
    if (auto address = IpAddress::parseAsResolver(host)) return RequestHost{*address, {}};
  }
  std::string_view last = host.substr(host.rfind('.') + 1);
  if (!last.empty() && last.find_first_not_of("0123456789") == std::string_view::npos) {
    // A lookup would send it to DNS as a name, where any answer could come back.
    refused = "looks like an IPv4 address but is not one";
    return std::nullopt;
  }
  if (!_::isDnsName(host, _::anyDnsChar)) {
    refused = "host is neither an IP address nor a DNS name (letters, digits, '-' and '.', at "
              "most " + std::to_string(MAX_HOST_NAME_BYTES) + " bytes, no trailing dot)";
    return std::nullopt;
  }
  // Names are case-insensitive (RFC 4343) and rules hold them in lowercase.
  RequestHost out;
  out.name.assign(host);
  for (char& c : out.name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace airlock::policy

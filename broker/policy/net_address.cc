#include "broker/policy/net_address.h"

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

std::string validateRuleHostName(std::string_view name) {
  std::string_view last = name.substr(name.rfind('.') + 1);
  if (!last.empty() && last.find_first_not_of("0123456789") == std::string_view::npos) {
    // No top-level domain is numeric: this is a mistyped address, not a name.
    return "looks like an IP address but is not one";
  }
  if (_::isDnsName(name, _::lowerDnsChar)) return {};
  return "not a lowercase DNS name (labels of a-z, 0-9 and '-', 1 to 63 bytes each, at most " +
         std::to_string(MAX_HOST_NAME_BYTES) + " bytes)";
}

std::string validateRequestHost(std::string_view host) {
  if (IpAddress::parse(host) || _::isDnsName(host, _::anyDnsChar)) return {};
  return "host is neither an IP address nor a DNS name (letters, digits, '-' and '.', at most " +
         std::to_string(MAX_HOST_NAME_BYTES) + " bytes)";
}

}  // namespace airlock::policy

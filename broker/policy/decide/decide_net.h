#pragma once
// net.connect decisions: pure functions of a unit's policy and one request, as decide.h's.
//
// TCP: a rule matches (host, port, address) when the port is in its `port` list and either the
// host as asked is one of its names, or the address the broker would connect to is in one of its
// blocks. Specificity: a block's prefix length; a listed name counts as a single address (32 for
// IPv4, 128 for IPv6), so an exact name and a /32 tie (deny wins) and both beat wider blocks.
// A name is decided once per address it resolves to, so a name that resolves (or is rebound) to a
// forbidden address is refused at that address. Unix: the `unix_path` pattern matches the path,
// ranked as fs.open ranks patterns.
//
// The host is decided as the broker uses it (canonicalRequestHost): any text getaddrinfo reads as
// an address ("127.1", "0x7f000001", "::ffff:127.0.0.1") is that address and never a name; a
// name is lowercased. Before any rule, neverConnectedReason refuses 0.0.0.0/8, :: and the other
// addresses no policy may reach. An IPv6 address carrying an IPv4 one (NAT64, SIIT, 6to4;
// IpAddress::embeddedIpv4) is allowed only when the IPv4 address is allowed too.

#include <cstdint>
#include <string_view>
#include <vector>

#include "broker/policy/decide/decide.h"
#include "broker/policy/model/net_address.h"
#include "broker/policy/model/policy.h"

namespace airlock::policy {

Decision decideNetConnect(const UnitPolicy& unit, std::string_view host, uint16_t port,
                          const IpAddress* address);
// `address` is one address `host` resolved to; null decides on names alone: what the broker
// answers when it need not or could not resolve. For a literal host `address` is ignored: the
// literal is the address (the broker connects to exactly it).

bool netConnectNeedsAddress(const UnitPolicy& unit, std::string_view host, uint16_t port);
// Whether resolving `host` could make an allow rule match: some allow rule lists the port and
// either names `host` or has a block. When false the broker decides with a null address and
// sends no DNS query for a request it will refuse anyway.

Decision decideNetConnectUnix(const UnitPolicy& unit, std::string_view path);

// As decide.h's matching*Rules: every matching rule, ranked, for `airlock policy explain`.
std::vector<RuleMatch> matchingNetConnectRules(const UnitPolicy& unit, std::string_view host,
                                               uint16_t port, const IpAddress* address);
std::vector<RuleMatch> matchingNetConnectUnixRules(const UnitPolicy& unit, std::string_view path);

}  // namespace airlock::policy

// The values of net.connect requests as the broker reads them: every spelling getaddrinfo reads as
// an address is that address (checked against glibc itself), the addresses no rule may allow, the
// IPv4 address an IPv6 one carries, and host names in their canonical (lowercase) form.

#include "broker/policy/model/net_address.h"

#include <gtest/gtest.h>
#include <netdb.h>

#include <string>

namespace airlock::policy {
namespace {

// What getaddrinfo makes of `text` without a lookup (AI_NUMERICHOST), as the broker's resolver
// path would; "" when it would look `text` up as a name instead.
std::string whatGetaddrinfoReads(const std::string& text) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  if (getaddrinfo(text.c_str(), nullptr, &hints, &found) != 0) return "";
  auto address = IpAddress::fromSockaddr(found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  return address ? address->describe() : "?";
}

std::string parsed(const std::string& text) {
  auto address = IpAddress::parseAsResolver(text);
  return address ? address->describe() : "";
}

TEST(NetAddress, EverySpellingGetaddrinfoReadsAsAnAddressIsReadAsThatAddress) {
  struct Case {
    const char* text;
    const char* address;  // "" = a name to getaddrinfo
  } cases[] = {
      {"127.0.0.1", "127.0.0.1"},
      {"127.1", "127.0.0.1"},
      {"127.0.1", "127.0.0.1"},
      {"0x7f.1", "127.0.0.1"},
      {"0X7F.0.0.1", "127.0.0.1"},
      {"0x7f000001", "127.0.0.1"},
      {"0x0000007F000001", "127.0.0.1"},
      {"017700000001", "127.0.0.1"},
      {"0177.0.0.1", "127.0.0.1"},
      {"127.000.000.001", "127.0.0.1"},
      {"2130706433", "127.0.0.1"},
      {"127.0.0x1", "127.0.0.1"},
      {"127.65535", "127.0.255.255"},
      {"127.16777215", "127.255.255.255"},
      {"0", "0.0.0.0"},
      {"00", "0.0.0.0"},
      {"0x0", "0.0.0.0"},
      {"0.0", "0.0.0.0"},
      {"0.0.0.0", "0.0.0.0"},
      {"4294967295", "255.255.255.255"},
      {"0xffffffff", "255.255.255.255"},
      {"::1", "::1"},
      {"::", "::"},
      {"0:0:0:0:0:0:0:0", "::"},
      {"::ffff:127.0.0.1", "127.0.0.1"},
      {"::FFFF:7F00:1", "127.0.0.1"},
      {"0:0:0:0:0:ffff:7f00:1", "127.0.0.1"},
      {"::ffff:0.0.0.0", "0.0.0.0"},
      {"::127.0.0.1", "::127.0.0.1"},
      {"64:ff9b::7f00:1", "64:ff9b::7f00:1"},
      // Not addresses: getaddrinfo would send these to the resolver as names.
      {"4294967296", ""},
      {"0x100000000", ""},
      {"256.0.0.1", ""},
      {"127.16777216", ""},
      {"1.2.3.4.5", ""},
      {"08", ""},
      {"09.1", ""},
      {"0x", ""},
      {"0x.1", ""},
      {"0xg", ""},
      {"127.0.0.1.", ""},
      {"127..1", ""},
      {".127.0.0.1", ""},
      {"127.0.0.1 ", ""},
      {" 127.0.0.1", ""},
      {"+1", ""},
      {"localhost", ""},
      {"LOCALHOST", ""},
      {"", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(whatGetaddrinfoReads(c.text), c.address) << "the oracle on \"" << c.text << "\"";
    EXPECT_EQ(parsed(c.text), c.address) << "\"" << c.text << "\"";
  }
}

TEST(NetAddress, EveryBaseAndPartCountOfAnAddressAgreesWithGetaddrinfo) {
  // Each address written in every base per part and every part count inet_aton takes.
  const uint32_t addresses[] = {0x7f000001u, 0u, 0x0a000001u, 0xc0a80101u, 0xffffffffu,
                                0x00ffffffu, 0x01020304u, 0xa9fea9feu};
  auto spell = [](uint32_t value, int base) {
    char text[32];
    if (base == 16) snprintf(text, sizeof(text), "0x%x", value);
    else if (base == 8) snprintf(text, sizeof(text), "0%o", value);
    else snprintf(text, sizeof(text), "%u", value);
    return std::string(text);
  };
  for (uint32_t address : addresses) {
    for (int parts = 1; parts <= 4; ++parts) {
      for (int base : {8, 10, 16}) {
        std::string text;
        for (int i = 0; i < parts - 1; ++i) {
          text += spell((address >> (24 - 8 * i)) & 0xff, base) + ".";
        }
        uint32_t rest = parts == 4 ? address & 0xff : address & (0xffffffffu >> (8 * (parts - 1)));
        text += spell(rest, base);
        EXPECT_EQ(parsed(text), whatGetaddrinfoReads(text)) << text;
        EXPECT_NE(parsed(text), "") << text;
      }
    }
  }
}

TEST(NetAddress, TheUnspecifiedAddressAndWhatReachesItAreNeverConnected) {
  const char* never[] = {"0.0.0.0", "0", "0.1.2.3", "0.255.255.255", "::", "::ffff:0.0.0.0",
                         "::127.0.0.1", "::10.0.0.1", "::2", "64:ff9b::", "64:ff9b::0.0.0.1",
                         "2002::", "::ffff:0:0.0.0.0", "64:ff9b:1::7f00:1", "64:ff9b:1::"};
  for (const char* text : never) {
    auto address = IpAddress::parseAsResolver(text);
    ASSERT_TRUE(address) << text;
    EXPECT_NE(neverConnectedReason(*address).find("refused whatever the rules say"),
              std::string::npos)
        << text << ": " << neverConnectedReason(*address);
  }
  const char* decidedByRules[] = {"127.0.0.1", "1.0.0.0", "::1", "::ffff:127.0.0.1",
                                  "64:ff9b::7f00:1", "2002:7f00:1::", "fd00::2"};
  for (const char* text : decidedByRules) {
    EXPECT_EQ(neverConnectedReason(*IpAddress::parseAsResolver(text)), "") << text;
  }
  EXPECT_NE(neverConnectedReason(*IpAddress::parse("::")).find("unspecified address ::"),
            std::string::npos);
  EXPECT_NE(neverConnectedReason(*IpAddress::parse("64:ff9b::")).find("reaches IPv4 0.0.0.0"),
            std::string::npos);
}

TEST(NetAddress, AnIpv6AddressTranslatedOrTunnelledToIpv4NamesThatAddress) {
  struct Case {
    const char* text;
    const char* ipv4;  // "" = none
  } cases[] = {
      {"64:ff9b::7f00:1", "127.0.0.1"},     {"64:ff9b::192.0.2.33", "192.0.2.33"},
      {"::ffff:0:7f00:1", "127.0.0.1"},     {"2002:7f00:1::1", "127.0.0.1"},
      {"2002:c000:221:1::5", "192.0.2.33"}, {"64:ff9b:0:1::7f00:1", ""},
      {"::1", ""},                          {"fd00::2", ""},
      {"127.0.0.1", ""},
  };
  for (const Case& c : cases) {
    auto inner = IpAddress::parse(c.text).value().embeddedIpv4();
    EXPECT_EQ(inner ? inner->describe() : "", c.ipv4) << c.text;
  }
}

TEST(NetAddress, ARequestHostIsAnAddressInAnySpellingOrALowercaseName) {
  std::string refused;
  auto literal = canonicalRequestHost("0x7f.1", refused);
  ASSERT_TRUE(literal && literal->literal) << refused;
  EXPECT_EQ(literal->literal->describe(), "127.0.0.1");
  EXPECT_EQ(literal->name, "");
  auto name = canonicalRequestHost("LocalHost", refused);
  ASSERT_TRUE(name) << refused;
  EXPECT_FALSE(name->literal);
  EXPECT_EQ(name->name, "localhost") << "RFC 4343: names are case-insensitive";
  EXPECT_EQ(canonicalRequestHost("Api.EXAMPLE.com", refused)->name, "api.example.com");

  struct Refusal {
    const char* host;
    const char* why;
  } refusals[] = {
      {"localhost.", "no trailing dot"},
      {"127.0.0.1.", "no trailing dot"},
      {"256.0.0.1", "looks like an IPv4 address but is not one"},
      {"1.2.3.4.5", "looks like an IPv4 address but is not one"},
      {"08", "looks like an IPv4 address but is not one"},
      {"::1%lo", "neither an IP address nor a DNS name"},
      {"bad host", "neither an IP address nor a DNS name"},
      {"", "neither an IP address nor a DNS name"},
  };
  for (const Refusal& r : refusals) {
    refused.clear();
    EXPECT_FALSE(canonicalRequestHost(r.host, refused)) << r.host;
    EXPECT_NE(refused.find(r.why), std::string::npos) << r.host << ": " << refused;
  }
}

TEST(NetAddress, ARuleNameGetaddrinfoWouldReadAsAnAddressIsRefused) {
  EXPECT_NE(validateRuleHostName("0x7f000001").why().find("is the address 127.0.0.1 to getaddrinfo"),
            std::string::npos);
  EXPECT_NE(validateRuleHostName("0x7f.0x1").why().find("is the address 127.0.0.1"), std::string::npos);
  EXPECT_FALSE(validateRuleHostName("0xdb.internal").refuses()) << "a name whose first label looks hex";
  EXPECT_FALSE(validateRuleHostName("localhost").refuses());
}

}  // namespace
}  // namespace airlock::policy

// net.connect rules: reading host/port/unix_path (with file:line:col errors), the dangerous gate,
// decisions per resolved address, and explain, all through the loader as airlockd loads them.

#include <gtest/gtest.h>

#include "broker/policy/decide/decide_net.h"
#include "broker/policy/load/policy_loader.h"
#include "broker/policy/model/revision.h"
#include "broker/policy/review/explain.h"

namespace airlock::policy {
namespace {

const char HEADER[] = "[unit]\nname = \"net\"\nworker = \"w\"\n";

LoadResult load(const std::string& rules) {
  LoadOptions options;
  options.workerCheck = LoadOptions::WorkerCheck::SKIP;
  options.defines["sockets"] = "/srv/sockets";
  return loadPolicyText(std::string(HEADER) + rules, "net.toml", options);
}

std::string errorsOf(const LoadResult& result) {
  std::string out;
  for (auto& e : result.errors) out += e.where.describe() + ": " + e.message + "\n";
  return out;
}

std::string rule(const std::string& id, const std::string& effect, const std::string& body) {
  return "\n[[rule]]\nid = \"" + id + "\"\n" + effect + " = \"net.connect\"\n" + body + "\n";
}

IpAddress ip(const char* text) { return IpAddress::parse(text).value(); }

TEST(NetConnectRules, HostsPortsAndUnixPathsAreReadIntoTypedValues) {
  LoadResult r = load(rule("db", "allow",
                           "host = [\"db.internal\", \"10.0.0.0/8\", \"::1\", \"192.168.1.7\"]\n"
                           "port = [5432, \"8000-8999\"]") +
                      rule("pg", "allow", "unix_path = \"${sockets}/pg/*.sock\""));
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  const Rule& db = r.units[0].rules[0];
  EXPECT_EQ(db.net().hostNames, std::vector<std::string>{"db.internal"});
  ASSERT_EQ(db.net().hostBlocks.size(), 3u);
  EXPECT_EQ(db.net().hostBlocks[0].describe(), "10.0.0.0/8");
  EXPECT_EQ(db.net().hostBlocks[1].describe(), "::1/128");
  EXPECT_EQ(db.net().hostBlocks[2].describe(), "192.168.1.7/32");
  ASSERT_EQ(db.net().ports.size(), 2u);
  EXPECT_EQ(db.net().ports[1].describe(), "8000-8999");
  EXPECT_FALSE(db.net().isUnixSocketRule());
  const Rule& pg = r.units[0].rules[1];
  EXPECT_TRUE(pg.net().isUnixSocketRule());
  EXPECT_EQ(pg.net().unixPath.text(), "/srv/sockets/pg/*.sock");
  EXPECT_EQ(pg.net().unixPath.root(), "/srv/sockets/pg");
  EXPECT_TRUE(r.units[0].allowsAny(Operation::NET_CONNECT));
}

TEST(NetConnectRules, BadValuesAreErrorsAtTheirFileLineAndColumn) {
  struct Case {
    std::string body, expected;
  } cases[] = {
      {"host = [\"Db.Internal\"]\nport = [1]", "net.toml:8:9: rule \"r\": host \"Db.Internal\": not a lowercase DNS name"},
      {"host = [\"10.0.0.1/8\"]\nport = [1]", "host \"10.0.0.1/8\": has address bits set past the /8 prefix (the block is 10.0.0.0/8)"},
      {"host = [\"10.0.0.0/33\"]\nport = [1]", "prefix length must be 0..32"},
      {"host = [\"300.1.1.1\"]\nport = [1]", "looks like an IP address but is not one"},
      {"host = [\"0x7f000001\"]\nport = [1]", "host \"0x7f000001\": is the address 127.0.0.1 to getaddrinfo"},
      {"host = [\"127.1\"]\nport = [1]", "host \"127.1\": is the address 127.0.0.1 to getaddrinfo"},
      {"host = [\"::ffff:10.0.0.1\"]\nport = [1]", "write an IPv4-mapped address as the IPv4 address"},
      {"host = [\"a\", \"a\"]\nport = [1]", "host \"a\" is listed twice"},
      {"host = [\"a\"]\nport = [0]", "net.toml:9:9: rule \"r\": port 0 is out of range 1..65535"},
      {"host = [\"a\"]\nport = [70000]", "port 70000 is out of range"},
      {"host = [\"a\"]\nport = [\"9000-8000\"]", "port \"9000-8000\": range must satisfy 1 <= LO <= HI <= 65535"},
      {"host = [\"a\"]\nport = [\"http\"]", "expected a port number or a range"},
      {"host = [\"a\"]\nport = [1.5]", "expected a port number 1..65535 or a \"LO-HI\" string, got float"},
      {"host = [\"a\"]\nport = []", "port must be a non-empty array"},
      {"host = [\"a\"]", "missing required key \"port\""},
      {"port = [1]", "missing required key \"host\""},
      {"", "a net.connect rule has host and port (TCP) or unix_path"},
      {"host = [\"a\"]\nport = [1]\nunix_path = \"/srv/s.sock\"", "key \"host\" next to unix_path"},
      {"unix_path = \"relative.sock\"", "unix_path \"relative.sock\":"},
      {"host = [\"a\"]\nport = [1]\npath = \"/srv/x\"", "key \"path\" applies only to fs.*, grant rules, not net.connect"},
  };
  for (const Case& c : cases) {
    LoadResult r = load(rule("r", "allow", c.body));
    EXPECT_NE(errorsOf(r).find(c.expected), std::string::npos)
        << "policy body:\n" << c.body << "\nerrors:\n" << errorsOf(r);
  }
}

TEST(NetConnectRules, EveryAddressEveryPortOrASystemSocketNeedsAJustification) {
  struct Case {
    std::string body, danger;
  } cases[] = {
      {"host = [\"0.0.0.0/0\"]\nport = [443]", "grants connections to every IPv4 address"},
      {"host = [\"::/0\"]\nport = [443]", "grants connections to every IPv6 address"},
      {"host = [\"api.example.com\"]\nport = [\"1-65535\"]", "grants every port"},
      {"host = [\"api.example.com\"]\nport = [1, \"2-30000\", \"29000-65535\"]", "grants every port"},
      {"unix_path = \"/run/docker.sock\"", "grants Unix sockets under /run"},
      {"unix_path = \"/**\"", "grants every Unix socket"},
  };
  for (const Case& c : cases) {
    LoadResult refused = load(rule("r", "allow", c.body));
    EXPECT_NE(errorsOf(refused).find(c.danger + ""), std::string::npos) << errorsOf(refused);
    EXPECT_NE(errorsOf(refused).find("needs justification"), std::string::npos);
    LoadResult justified = load(rule("r", "allow", c.body + "\njustification = \"reviewed\""));
    EXPECT_TRUE(justified.ok()) << errorsOf(justified);
    EXPECT_TRUE(load(rule("r", "deny", c.body)).ok()) << "a deny is never dangerous";
  }
  EXPECT_TRUE(load(rule("r", "allow", "host = [\"a\"]\nport = [1, \"3-65535\"]")).ok())
      << "port 2 is not covered";
}

class NetDecideTest : public ::testing::Test {
 protected:
  void use(const std::string& rules) {
    LoadResult r = load(rules);
    ASSERT_TRUE(r.ok()) << errorsOf(r);
    units_ = std::move(r.units);
  }
  const UnitPolicy& unit() const { return units_.at(0); }
  std::vector<UnitPolicy> units_;
};

TEST_F(NetDecideTest, AListedNameOrABlockHoldingTheAddressAllowsOnlyItsPorts) {
  use(rule("by-name", "allow", "host = [\"db.internal\"]\nport = [5432]") +
      rule("by-block", "allow", "host = [\"10.0.0.0/8\"]\nport = [\"8000-8999\"]"));
  IpAddress anywhere = ip("203.0.113.9"), inside = ip("10.1.2.3");
  EXPECT_EQ(decideNetConnect(unit(), "db.internal", 5432, &anywhere).ruleId, "by-name");
  EXPECT_FALSE(decideNetConnect(unit(), "db.internal", 5433, &anywhere).allowed());
  EXPECT_EQ(decideNetConnect(unit(), "DB.Internal", 5432, &anywhere).ruleId, "by-name")
      << "names are case-insensitive (RFC 4343)";
  Decision block = decideNetConnect(unit(), "build.internal", 8080, &inside);
  EXPECT_EQ(block.ruleId, "by-block");
  EXPECT_NE(block.reason.find("address 10.1.2.3 in 10.0.0.0/8, port 8080 listed"),
            std::string::npos)
      << block.reason;
  Decision outside = decideNetConnect(unit(), "build.internal", 8080, &anywhere);
  EXPECT_EQ(outside.ruleId, "default-deny");
  EXPECT_NE(outside.reason.find("no rule allows net.connect to build.internal port 8080 "
                                "(203.0.113.9)"),
            std::string::npos)
      << outside.reason;
}

TEST_F(NetDecideTest, TheMostSpecificMatchWinsAndAnExactNameTiesASingleAddress) {
  use(rule("lan", "allow", "host = [\"10.0.0.0/8\", \"db.internal\"]\nport = [5432]") +
      rule("no-admin-net", "deny", "host = [\"10.9.0.0/16\"]\nport = [5432]") +
      rule("db-host-itself", "allow", "host = [\"10.9.0.5\"]\nport = [5432]") +
      rule("metadata", "deny", "host = [\"169.254.169.254\"]\nport = [\"1-1000\"]"));
  IpAddress admin = ip("10.9.0.7"), db = ip("10.9.0.5"), metadata = ip("169.254.169.254");
  EXPECT_EQ(decideNetConnect(unit(), "x", 5432, &admin).ruleId, "no-admin-net") << "/16 beats /8";
  EXPECT_EQ(decideNetConnect(unit(), "x", 5432, &db).ruleId, "db-host-itself") << "/32 beats /16";
  // db.internal is listed by name (as specific as one address), but /16 denies: the name wins.
  EXPECT_EQ(decideNetConnect(unit(), "db.internal", 5432, &admin).ruleId, "lan");
  // A name rebound to the metadata address: allowed by name, refused by the /32 deny, deny wins.
  use(rule("api", "allow", "host = [\"api.example.com\"]\nport = [80]") +
      rule("metadata", "deny", "host = [\"169.254.169.254\"]\nport = [80]"));
  Decision rebound = decideNetConnect(unit(), "api.example.com", 80, &metadata);
  EXPECT_EQ(rebound.ruleId, "metadata");
  EXPECT_NE(rebound.reason.find("deny wins the tie with allow rule \"api\""), std::string::npos)
      << rebound.reason;
}

TEST_F(NetDecideTest, AnIpv4MappedIpv6AddressIsDecidedAsTheIpv4AddressItReaches) {
  use(rule("lan", "allow", "host = [\"::/1\", \"8000::/1\"]\nport = [80]\njustification = \"x\"") +
      rule("no-ten", "deny", "host = [\"10.0.0.0/8\"]\nport = [80]"));
  IpAddress mapped = ip("::ffff:10.0.0.1");
  EXPECT_EQ(mapped.family, AF_INET);
  EXPECT_EQ(decideNetConnect(unit(), "::ffff:10.0.0.1", 80, &mapped).ruleId, "no-ten");
}

// A wide allow with loopback carved out, as a unit reaching the internet but not its host has.
const char LOOPBACK_DENIED[] =
    "\n[[rule]]\nid = \"internet\"\nallow = \"net.connect\"\nhost = [\"0.0.0.0/0\", \"::/0\"]\n"
    "port = [80]\njustification = \"x\"\n"
    "\n[[rule]]\nid = \"no-loopback\"\ndeny = \"net.connect\"\n"
    "host = [\"127.0.0.0/8\", \"::1\", \"localhost\"]\nport = [80]\n";

TEST_F(NetDecideTest, EverySpellingOfTheLocalHostIsRefusedUnderAWideAllow) {
  use(LOOPBACK_DENIED);
  struct Case {
    const char* host;
    const char* rule;  // the deciding rule; default-deny = refused before any rule
  } cases[] = {
      {"127.0.0.1", "no-loopback"},
      {"127.1", "no-loopback"},
      {"127.0.1", "no-loopback"},
      {"0x7f.1", "no-loopback"},
      {"0X7F.0.0.1", "no-loopback"},
      {"0x7f000001", "no-loopback"},
      {"017700000001", "no-loopback"},
      {"0177.0.0.1", "no-loopback"},
      {"127.000.000.001", "no-loopback"},
      {"2130706433", "no-loopback"},
      {"127.255.255.254", "no-loopback"},
      {"::1", "no-loopback"},
      {"0:0:0:0:0:0:0:1", "no-loopback"},
      {"::ffff:127.0.0.1", "no-loopback"},
      {"::FFFF:7F00:1", "no-loopback"},
      {"::ffff:0:127.0.0.1", "no-loopback"},
      {"64:ff9b::127.0.0.1", "no-loopback"},
      {"64:ff9b::7f00:1", "no-loopback"},
      {"2002:7f00:1::1", "no-loopback"},
      {"0", "default-deny"},
      {"00", "default-deny"},
      {"0x0", "default-deny"},
      {"0.0", "default-deny"},
      {"0.0.0.0", "default-deny"},
      {"0.0.0.1", "default-deny"},
      {"0.1.2.3", "default-deny"},
      {"::", "default-deny"},
      {"::0", "default-deny"},
      {"0:0:0:0:0:0:0:0", "default-deny"},
      {"::ffff:0.0.0.0", "default-deny"},
      {"::ffff:0:0", "default-deny"},
      {"64:ff9b::", "default-deny"},
      {"64:ff9b::0.0.0.0", "default-deny"},
      {"2002::1", "default-deny"},
      {"::127.0.0.1", "default-deny"},
      {"64:ff9b:1::7f00:1", "default-deny"},
      {"127.0.0.1.", "default-deny"},
      {"localhost.", "default-deny"},
      {"127.0.0.256", "default-deny"},
  };
  IpAddress resolvedLoopback = ip("127.0.0.1");
  for (const Case& c : cases) {
    // A literal is decided as its address whether or not the broker passes one: it never
    // resolves it, and what it would have resolved is the same address.
    Decision alone = decideNetConnect(unit(), c.host, 80, nullptr);
    EXPECT_FALSE(alone.allowed()) << c.host << ": " << alone.reason;
    EXPECT_EQ(alone.ruleId, c.rule) << c.host << ": " << alone.reason;
    Decision resolved = decideNetConnect(unit(), c.host, 80, &resolvedLoopback);
    EXPECT_EQ(resolved.ruleId, alone.ruleId) << c.host << ": " << resolved.reason;
    EXPECT_TRUE(matchingNetConnectRules(unit(), c.host, 80, nullptr).empty() ==
                (std::string(c.rule) == "default-deny"))
        << c.host;
  }
  // The same wide allow lets other addresses through, in any spelling.
  for (const char* host : {"1.2.3.4", "0x01020304", "16909060", "1.2.772", "::ffff:1.2.3.4",
                           "64:ff9b::1.2.3.4", "2001:db8::1", "128.0.0.1"}) {
    Decision decision = decideNetConnect(unit(), host, 80, nullptr);
    EXPECT_EQ(decision.ruleId, "internet") << host << ": " << decision.reason;
  }
}

TEST_F(NetDecideTest, TheUnspecifiedAddressIsRefusedWhateverTheRulesSay) {
  use(rule("everything", "allow",
           "host = [\"0.0.0.0/0\", \"::/0\", \"0.0.0.0\", \"::\", \"sink.example\"]\n"
           "port = [80]\njustification = \"x\""));
  Decision zero = decideNetConnect(unit(), "0", 80, nullptr);
  EXPECT_EQ(zero.ruleId, "default-deny") << "even a rule listing 0.0.0.0 does not allow it";
  EXPECT_EQ(zero.reason,
            "refused net.connect to 0 port 80: 0.0.0.0/8 is \"this host\": connect(2) to 0.0.0.0 "
            "reaches the local host; refused whatever the rules say");
  EXPECT_FALSE(netConnectNeedsAddress(unit(), "0", 80)) << "nothing to resolve or dial";
  Decision any6 = decideNetConnect(unit(), "::", 80, nullptr);
  EXPECT_NE(any6.reason.find("the unspecified address ::"), std::string::npos) << any6.reason;
  // A name a DNS sinkhole answers with 0.0.0.0: listed by name, refused at that address.
  IpAddress sinkhole = ip("0.0.0.0");
  Decision named = decideNetConnect(unit(), "sink.example", 80, &sinkhole);
  EXPECT_EQ(named.ruleId, "default-deny");
  EXPECT_NE(named.reason.find("refused net.connect to sink.example port 80: 0.0.0.0/8"),
            std::string::npos)
      << named.reason;
  IpAddress sinkhole6 = ip("::");
  EXPECT_FALSE(decideNetConnect(unit(), "sink.example", 80, &sinkhole6).allowed());
}

TEST_F(NetDecideTest, AHostNameIsDecidedInLowercaseWhateverCaseItIsAskedIn) {
  use(rule("internet", "allow", "host = [\"0.0.0.0/0\"]\nport = [80]\njustification = \"x\"") +
      rule("not-local", "deny", "host = [\"localhost\"]\nport = [80]"));
  IpAddress loopback = ip("127.0.0.1");
  for (const char* host : {"localhost", "LOCALHOST", "LocalHost", "localHOST"}) {
    Decision decision = decideNetConnect(unit(), host, 80, &loopback);
    EXPECT_EQ(decision.ruleId, "not-local") << host << ": " << decision.reason;
    EXPECT_EQ(decideNetConnect(unit(), host, 80, nullptr).ruleId, "not-local") << host;
  }
  Decision dotted = decideNetConnect(unit(), "localhost.", 80, &loopback);
  EXPECT_EQ(dotted.ruleId, "default-deny");
  EXPECT_NE(dotted.reason.find("no trailing dot"), std::string::npos) << dotted.reason;
  Decision upper = decideNetConnect(unit(), "LOCALHOST", 80, &loopback);
  EXPECT_NE(upper.reason.find("host localhost listed"), std::string::npos) << upper.reason;
}

TEST_F(NetDecideTest, AnIpv6AddressCarryingAnIpv4OneNeedsBothAllowed) {
  use(rule("v6-only", "allow", "host = [\"::/0\"]\nport = [80]\njustification = \"x\"") +
      rule("one-v4", "allow", "host = [\"192.0.2.0/24\"]\nport = [80]"));
  Decision allowed = decideNetConnect(unit(), "64:ff9b::192.0.2.1", 80, nullptr);
  EXPECT_EQ(allowed.ruleId, "v6-only") << allowed.reason;
  Decision refused = decideNetConnect(unit(), "64:ff9b::198.51.100.1", 80, nullptr);
  EXPECT_EQ(refused.ruleId, "default-deny");
  EXPECT_NE(refused.reason.find("64:ff9b::c633:6401 reaches IPv4 198.51.100.1: no rule allows"),
            std::string::npos)
      << refused.reason;
  EXPECT_FALSE(decideNetConnect(unit(), "2002:c633:6401::1", 80, nullptr).allowed());
  EXPECT_TRUE(decideNetConnect(unit(), "2001:db8::1", 80, nullptr).allowed());
}

TEST_F(NetDecideTest, ABrokerResolvesOnlyWhenAnAllowRuleCouldMatch) {
  use(rule("by-name", "allow", "host = [\"db.internal\"]\nport = [5432]") +
      rule("block", "allow", "host = [\"10.0.0.0/8\"]\nport = [443]") +
      rule("no-evil", "deny", "host = [\"evil.example\"]\nport = [443]"));
  EXPECT_TRUE(netConnectNeedsAddress(unit(), "db.internal", 5432));
  EXPECT_TRUE(netConnectNeedsAddress(unit(), "anything.example", 443)) << "a block may hold it";
  EXPECT_FALSE(netConnectNeedsAddress(unit(), "anything.example", 5432));
  EXPECT_FALSE(netConnectNeedsAddress(unit(), "bad host!", 443));
  EXPECT_EQ(decideNetConnect(unit(), "evil.example", 443, nullptr).ruleId, "no-evil");
  EXPECT_EQ(decideNetConnect(unit(), "bad host!", 443, nullptr).reason,
            "refused net.connect to \"bad host!\": host is neither an IP address nor a DNS name "
            "(letters, digits, '-' and '.', at most 253 bytes, no trailing dot)");
  EXPECT_NE(decideNetConnect(unit(), "db.internal", 0, nullptr).reason.find("port 0"),
            std::string::npos);
}

TEST_F(NetDecideTest, UnixPathsAreMatchedAsPatternsAndRankedLikeFsPaths) {
  use(rule("sockets", "allow", "unix_path = \"${sockets}/**\"") +
      rule("not-admin", "deny", "unix_path = \"${sockets}/admin/*.sock\""));
  EXPECT_EQ(decideNetConnectUnix(unit(), "/srv/sockets/pg/.s.PGSQL.5432").ruleId, "sockets");
  EXPECT_EQ(decideNetConnectUnix(unit(), "/srv/sockets/admin/a.sock").ruleId, "not-admin");
  EXPECT_EQ(decideNetConnectUnix(unit(), "/srv/other.sock").ruleId, "default-deny");
  EXPECT_EQ(decideNetConnectUnix(unit(), "/srv/sockets/../x.sock").ruleId, "default-deny");
  EXPECT_EQ(matchingNetConnectUnixRules(unit(), "/srv/sockets/admin/a.sock").size(), 2u);
  EXPECT_FALSE(decideNetConnect(unit(), "localhost", 80, nullptr).allowed())
      << "a unix rule allows no TCP";
}

TEST_F(NetDecideTest, ExplainDecidesWithTheBrokersFunctionsAndNamesTheLosers) {
  use(rule("lan", "allow", "host = [\"10.0.0.0/8\"]\nport = [443]") +
      rule("no-admin", "deny", "host = [\"10.9.0.0/16\"]\nport = [443]"));
  ExplainRequest request{"net", "net.connect",
                         {{"host", "admin.internal"}, {"port", "443"}, {"address", "10.9.1.1"}}};
  Explanation out = explain(units_, request);
  ASSERT_TRUE(out.error.empty()) << out.error;
  EXPECT_EQ(out.decision.ruleId, "no-admin");
  ASSERT_EQ(out.lost.size(), 1u);
  EXPECT_EQ(out.lost[0].rule->id, "lan");
  EXPECT_EQ(out.request, "net.connect admin.internal port 443 (10.9.1.1) in unit net");

  Explanation literal = explain(units_, {"net", "net.connect", {{"host", "10.1.1.1"}, {"port", "443"}}});
  EXPECT_EQ(literal.decision.ruleId, "lan") << "a literal host is its own address";
  Explanation bad = explain(units_, {"net", "net.connect", {{"host", "a"}, {"port", "https"}}});
  EXPECT_NE(bad.error.find("port must be a number"), std::string::npos);
  Explanation mixed =
      explain(units_, {"net", "net.connect", {{"host", "a"}, {"unix_path", "/s.sock"}}});
  EXPECT_NE(mixed.error.find("unix_path=PATH alone"), std::string::npos);
}

TEST(NetConnectRules, RepeatedRulesAreLintedAndPortsAreInTheRevision) {
  LoadResult twice = load(rule("a", "allow", "host = [\"x.example\"]\nport = [443]") +
                          rule("b", "allow", "host = [\"x.example\"]\nport = [443]"));
  ASSERT_TRUE(twice.ok()) << errorsOf(twice);
  bool warned = false;
  for (auto& w : twice.warnings) warned |= w.message.find("rule \"b\" repeats rule \"a\"") == 0;
  EXPECT_TRUE(warned);
  LoadResult one = load(rule("a", "allow", "host = [\"x.example\"]\nport = [443]"));
  LoadResult other = load(rule("a", "allow", "host = [\"x.example\"]\nport = [444]"));
  EXPECT_NE(policyRevision(one.units), policyRevision(other.units));
}

}  // namespace
}  // namespace airlock::policy

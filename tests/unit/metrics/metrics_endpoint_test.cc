#include "broker/metrics/metrics_endpoint.h"

#include <gtest/gtest.h>

namespace airlock::broker::metrics {
namespace {

kj::Maybe<MetricsEndpoint> parse(const std::string& text,
                                 RemoteScrapes remote = RemoteScrapes::REFUSED) {
  std::string error;
  auto endpoint = parseMetricsEndpoint(text, remote, error);
  if (endpoint == nullptr) {
    EXPECT_FALSE(error.empty()) << text;
  }
  return endpoint;
}

TEST(MetricsEndpointTest, AnythingWithASlashIsAUnixSocketPath) {
  KJ_IF_MAYBE(endpoint, parse("/run/airlock/metrics.sock")) {
    EXPECT_EQ(endpoint->kind, MetricsEndpoint::Kind::UNIX_SOCKET);
    EXPECT_EQ(endpoint->path, "/run/airlock/metrics.sock");
    EXPECT_EQ(endpoint->describe(), "unix:/run/airlock/metrics.sock");
  } else {
    ADD_FAILURE();
  }
  EXPECT_NE(parse("./m.sock"), nullptr);
  EXPECT_EQ(parse("/" + std::string(200, 'x')), nullptr);  // past sun_path
}

TEST(MetricsEndpointTest, LoopbackAddressesAreTcpEndpoints) {
  for (const char* text : {"127.0.0.1:9464", "127.3.2.1:0", "localhost:9464", "[::1]:9464",
                           "[::ffff:127.0.0.1]:9464"}) {
    KJ_IF_MAYBE(endpoint, parse(text)) {
      EXPECT_EQ(endpoint->kind, MetricsEndpoint::Kind::TCP) << text;
      EXPECT_TRUE(endpoint->loopback) << text;
    } else {
      ADD_FAILURE() << text;
    }
  }
  KJ_IF_MAYBE(six, parse("[::1]:80")) { EXPECT_EQ(six->describe(), "[::1]:80"); }
  KJ_IF_MAYBE(local, parse("localhost:80")) { EXPECT_EQ(local->address, "127.0.0.1"); }
}

TEST(MetricsEndpointTest, AnAddressThatIsNotLoopbackNeedsTheOperatorsSay) {
  for (const char* text : {"0.0.0.0:9464", "10.0.0.7:9464", "[::]:9464", "[2001:db8::1]:1"}) {
    std::string error;
    EXPECT_EQ(parseMetricsEndpoint(text, RemoteScrapes::REFUSED, error), nullptr) << text;
    EXPECT_NE(error.find("--metrics-allow-remote"), std::string::npos) << error;
    KJ_IF_MAYBE(endpoint, parse(text, RemoteScrapes::ALLOWED)) {
      EXPECT_FALSE(endpoint->loopback) << text;
    } else {
      ADD_FAILURE() << text;
    }
  }
}

TEST(MetricsEndpointTest, ItIsAPathOrAnAddressLiteralWithAPortAndNothingElse) {
  for (const char* text : {"", "9464", ":9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                           "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:80x", "127.1:80",
                           "::1:80", "[::1:80", "example.com:80", "0x7f000001:80",
                           "[127.0.0.1]:80", "127.0.0.1:123456"}) {
    EXPECT_EQ(parse(text, RemoteScrapes::ALLOWED), nullptr) << text;
  }
}

}  // namespace
}  // namespace airlock::broker::metrics

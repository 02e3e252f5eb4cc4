#include "broker/server/connection_limits.h"

#include <gtest/gtest.h>

#include <vector>

namespace airlock::broker {
namespace {

TEST(ConnectionLimitsTest, OneUidHoldsAtMostItsShareOfTheUnauthenticatedPlaces) {
  ConnectionLimits limits(MAX_HOST_CONNECTIONS);
  std::vector<ConnectionLimits::Places> held;
  for (size_t i = 0; i < MAX_UNAUTHENTICATED_CONNECTIONS_PER_UID; ++i) {
    ASSERT_FALSE(limits.refusal(1000).has_value());
    held.push_back(limits.take(1000));
  }
  auto refused = limits.refusal(1000);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->bound, "broker.max_unauthenticated_connections_per_uid");
  EXPECT_FALSE(limits.refusal(1001).has_value()) << "another uid is not locked out";
  held.back().preAuth = nullptr;  // that connection authenticated
  EXPECT_FALSE(limits.refusal(1000).has_value());
  EXPECT_EQ(limits.unauthenticated(), MAX_UNAUTHENTICATED_CONNECTIONS_PER_UID - 1);
  EXPECT_EQ(limits.connections(), MAX_UNAUTHENTICATED_CONNECTIONS_PER_UID);
}

TEST(ConnectionLimitsTest, ManyUidsTogetherHoldAtMostTheUnauthenticatedCap) {
  ConnectionLimits limits(MAX_HOST_CONNECTIONS);
  std::vector<ConnectionLimits::Places> held;
  for (uid_t uid = 0; held.size() < MAX_UNAUTHENTICATED_CONNECTIONS; ++uid) {
    held.push_back(limits.take(uid));
  }
  auto refused = limits.refusal(99999);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->bound, "broker.max_unauthenticated_connections");
}

TEST(ConnectionLimitsTest, AuthenticatedConnectionsCountAgainstTheTotalCapOnly) {
  ConnectionLimits limits(100);
  std::vector<ConnectionLimits::Places> held;
  for (int i = 0; i < 100; ++i) {
    ASSERT_FALSE(limits.refusal(0).has_value()) << i;
    held.push_back(limits.take(0));
    held.back().preAuth = nullptr;  // authenticated at once
  }
  auto refused = limits.refusal(0);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->bound, "broker.max_host_connections");
  held.pop_back();  // a connection closed
  EXPECT_FALSE(limits.refusal(0).has_value());
}

TEST(ConnectionLimitsTest, TheTotalCapLeavesThreeQuartersOfASmallDescriptorLimit) {
  EXPECT_EQ(hostConnectionCap(1024), 256u);
  EXPECT_EQ(hostConnectionCap(1 << 20), MAX_HOST_CONNECTIONS);
  EXPECT_EQ(hostConnectionCap(2), 1u);
}

}  // namespace
}  // namespace airlock::broker

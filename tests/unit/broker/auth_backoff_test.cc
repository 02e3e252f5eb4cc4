#include "broker/host/auth_backoff.h"

#include <gtest/gtest.h>

#include "broker/host/seen_nonces.h"
#include "capnp/host_auth.h"

namespace airlock::broker {
namespace {

TEST(AuthBackoff, ThreeFailuresAreFreeThenTheDelayDoublesUpToItsCap) {
  AuthBackoff backoff;
  std::vector<int64_t> delays;
  for (int i = 0; i < 12; ++i) {
    delays.push_back(backoff.delayFor(1000) / kj::MILLISECONDS);
    backoff.failed(1000);
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{0, 0, 0, 100, 200, 400, 800, 1600, 3200, 6400, 10000,
                                          10000}));
  EXPECT_EQ(backoff.delayFor(0) / kj::MILLISECONDS, 0) << "per uid";
  backoff.succeeded(1000);
  EXPECT_EQ(backoff.failures(1000), 0u);
  EXPECT_EQ(backoff.delayFor(1000) / kj::MILLISECONDS, 0);
}

TEST(AuthBackoff, AtMostFourHandshakesOfAUidAreInFlight) {
  AuthBackoff backoff;
  std::vector<AuthBackoff::Attempt> held;
  for (uint32_t i = 0; i < AuthBackoff::MAX_PENDING_PER_UID; ++i) {
    KJ_IF_MAYBE(attempt, backoff.begin(7)) { held.push_back(kj::mv(*attempt)); }
  }
  EXPECT_EQ(held.size(), size_t(AuthBackoff::MAX_PENDING_PER_UID));
  EXPECT_TRUE(backoff.begin(7) == nullptr);
  EXPECT_FALSE(backoff.begin(8) == nullptr) << "another uid is not affected";
  held.pop_back();
  EXPECT_FALSE(backoff.begin(7) == nullptr) << "a finished attempt frees its slot";
}

TEST(SeenNonces, ARepeatIsRefusedAndTheOldestIsForgottenPastCapacity) {
  SeenNonces nonces;
  rpc::AuthNonce first{};
  EXPECT_TRUE(nonces.insert(first));
  EXPECT_FALSE(nonces.insert(first));
  for (size_t i = 1; i <= SeenNonces::CAPACITY; ++i) {
    rpc::AuthNonce nonce{};
    memcpy(nonce.data(), &i, sizeof(i));
    ASSERT_TRUE(nonces.insert(nonce));
  }
  EXPECT_TRUE(nonces.insert(first)) << "bounded memory: forgotten after CAPACITY newer ones";
}

TEST(HostAuthMessage, BrokerAndClientSignDifferentBytesOverTheSameFields) {
  rpc::AuthTranscript t;
  t.clientName = "web";
  t.peerUid = 1000;
  t.peerPid = 42;
  t.clientNonce = rpc::freshAuthNonce();
  t.brokerNonce = rpc::freshAuthNonce();
  auto broker = rpc::authMessage(t, rpc::AuthSigner::BROKER);
  auto client = rpc::authMessage(t, rpc::AuthSigner::CLIENT);
  EXPECT_NE(broker, client);
  EXPECT_EQ(broker.rfind(std::string("airlock-host-auth-v1/broker\0", 28), 0), 0u);
  for (auto change : {+[](rpc::AuthTranscript& x) { x.peerPid++; },
                      +[](rpc::AuthTranscript& x) { x.peerUid++; },
                      +[](rpc::AuthTranscript& x) { x.clientNonce[0] ^= 1; },
                      +[](rpc::AuthTranscript& x) { x.brokerNonce[31] ^= 1; },
                      +[](rpc::AuthTranscript& x) { x.brokerKey[5] ^= 1; },
                      +[](rpc::AuthTranscript& x) { x.clientName = "we"; }}) {
    auto other = t;
    change(other);
    EXPECT_NE(rpc::authMessage(other, rpc::AuthSigner::CLIENT), client);
  }
  EXPECT_NE(rpc::validateClientName("Web"), "");
  EXPECT_NE(rpc::validateClientName(std::string(65, 'a')), "");
  EXPECT_EQ(rpc::validateClientName("web-1"), "");
}

}  // namespace
}  // namespace airlock::broker

// libairlock (sdk/c/airlock.h) when airlockd goes away under a connected client: every call
// answers AIRLOCK_DISCONNECTED with a message, nothing throws into the caller, and the client
// is still freed cleanly. Called from C++ here, through the C functions only.

#include <gtest/gtest.h>

#include <airlock/airlock.h>

#include <string>

#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/foreign_hosts.h"

namespace airlock::testing {
namespace {

TEST(CAbiDisconnectTest, CallsAfterAirlockdDiesAnswerDisconnectedAndTheClientStillFrees) {
  BrokerProcess broker(foreignHostPolicies());
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  airlock_client* client = nullptr;
  char* why = nullptr;
  ASSERT_EQ(airlock_connect(broker.socket().c_str(), broker.clientKey().c_str(),
                            broker.brokerPublicKey().c_str(), &client, &why),
            AIRLOCK_OK)
      << (why != nullptr ? why : "");
  airlock_reply* reply = nullptr;
  ASSERT_EQ(airlock_call(client, "probe", "echo", "up", 2, 0, &reply), AIRLOCK_OK)
      << airlock_reply_describe(reply);
  airlock_reply_free(reply);

  broker.killHard();
  for (const char* method : {"echo", "crash"}) {
    reply = nullptr;
    EXPECT_EQ(airlock_call(client, "probe", method, "", 0, 0, &reply), AIRLOCK_DISCONNECTED)
        << airlock_reply_describe(reply);
    ASSERT_NE(reply, nullptr);
    EXPECT_EQ(airlock_reply_status(reply), AIRLOCK_DISCONNECTED);
    EXPECT_STRNE(airlock_reply_message(reply), "");
    airlock_reply_free(reply);
  }
  const char* argv[] = {"-"};
  reply = nullptr;
  EXPECT_EQ(airlock_run(client, "cat", argv, 1, "x", 1, 0, &reply), AIRLOCK_DISCONNECTED)
      << airlock_reply_describe(reply);
  airlock_reply_free(reply);
  reply = nullptr;
  EXPECT_EQ(airlock_call_typed(client, "typed", 1, 0, nullptr, 0, &reply), AIRLOCK_DISCONNECTED)
      << airlock_reply_describe(reply);
  airlock_reply_free(reply);
  airlock_client_free(client);

  // And a new connection to the dead socket is refused with a reason, not a crash.
  EXPECT_EQ(airlock_connect(broker.socket().c_str(), broker.clientKey().c_str(),
                            broker.brokerPublicKey().c_str(), &client, &why),
            AIRLOCK_CONNECT_FAILED);
  EXPECT_EQ(client, nullptr);
  ASSERT_NE(why, nullptr);
  EXPECT_STRNE(why, "");
  airlock_string_free(why);
}

}  // namespace
}  // namespace airlock::testing

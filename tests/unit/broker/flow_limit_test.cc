#include "broker/state/flow_limit.h"

#include <gtest/gtest.h>

namespace airlock::broker {
namespace {

policy::UnitPolicy unitWith(uint64_t inFlight, uint64_t perSecond, uint64_t burst = 0) {
  policy::UnitPolicy unit;
  unit.name = "u";
  unit.flow.maxCallsInFlight = inFlight;
  unit.flow.maxCallsPerSecond = perSecond;
  unit.flow.callsBurst = burst;
  unit.flow.inFlightWhere = {"u.toml", 5, 23};
  unit.flow.perSecondWhere = {"u.toml", 6, 24};
  return unit;
}

kj::TimePoint at(int64_t millis) { return kj::origin<kj::TimePoint>() + millis * kj::MILLISECONDS; }

TEST(UnitFlowTest, WithoutLimitsEveryCallIsAdmitted) {
  UnitFlow flow;
  auto unit = unitWith(0, 0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(flow.admit(unit, at(0)).admitted);
  EXPECT_EQ(flow.inFlight(), 1000u);
}

TEST(UnitFlowTest, CallsBeyondMaxInFlightAreRefusedUntilOneIsAnswered) {
  UnitFlow flow;
  auto unit = unitWith(2, 0);
  EXPECT_TRUE(flow.admit(unit, at(0)).admitted);
  EXPECT_TRUE(flow.admit(unit, at(0)).admitted);
  auto refused = flow.admit(unit, at(0));
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.ruleId, "unit.max_calls_in_flight");
  EXPECT_EQ(refused.reason, "unit u has 2 call(s) queued or running, max_calls_in_flight 2 "
                            "(u.toml:5:23); try again when one is answered");
  EXPECT_EQ(flow.inFlight(), 2u) << "a refused call is not counted";
  flow.release();
  EXPECT_TRUE(flow.admit(unit, at(0)).admitted);
}

TEST(UnitFlowTest, TheRateAllowsABurstThenRefillsWithTime) {
  UnitFlow flow;
  auto unit = unitWith(0, 10, 3);  // 10 a second, 3 at once
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(flow.admit(unit, at(0)).admitted) << i;
    flow.release();
  }
  auto refused = flow.admit(unit, at(0));
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.ruleId, "unit.max_calls_per_second");
  EXPECT_NE(refused.reason.find("max_calls_per_second 10 with calls_burst 3 (u.toml:6:24)"),
            std::string::npos) << refused.reason;
  EXPECT_FALSE(flow.admit(unit, at(99)).admitted) << "a token takes 100 ms";
  EXPECT_TRUE(flow.admit(unit, at(100)).admitted);
  flow.release();
  // A long quiet spell refills only up to the burst.
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(flow.admit(unit, at(1000000)).admitted) << i;
    flow.release();
  }
  EXPECT_FALSE(flow.admit(unit, at(1000000)).admitted);
}

TEST(UnitFlowTest, TheBurstDefaultsToTheRateAndARefusalForInFlightSpendsNoToken) {
  UnitFlow flow;
  auto unit = unitWith(1, 2);
  EXPECT_TRUE(flow.admit(unit, at(0)).admitted);
  EXPECT_EQ(flow.admit(unit, at(0)).ruleId, "unit.max_calls_in_flight");
  flow.release();
  EXPECT_TRUE(flow.admit(unit, at(0)).admitted) << "the second of a burst of 2";
  flow.release();
  EXPECT_EQ(flow.admit(unit, at(0)).ruleId, "unit.max_calls_per_second");
}

}  // namespace
}  // namespace airlock::broker

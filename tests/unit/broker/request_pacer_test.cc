#include "broker/caps/request_pacer.h"

#include <gtest/gtest.h>
#include <kj/timer.h>

namespace airlock::broker {
namespace {

policy::RequestLimits limits(uint64_t perSecond, uint64_t burst) {
  policy::RequestLimits out;
  out.maxRequestsPerSecond = perSecond;
  out.requestsBurst = burst;
  return out;
}

kj::TimePoint at(int64_t millis) { return kj::origin<kj::TimePoint>() + millis * kj::MILLISECONDS; }

TEST(RequestPacerTest, ABurstGoesAtOnceThenRequestsAreSpacedOneOverTheRateInArrivalOrder) {
  kj::TimerImpl timer(at(0));
  auto pacer = kj::refcounted<RequestPacer>(timer);
  auto pace = limits(10, 3);  // 100 ms apart, 3 at once
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pacer->turn(pace) == nullptr) << "request " << i;
  // The 4th is due when a 4th slot opens: the schedule may run 2 slots (200 ms) ahead of now.
  for (int64_t expected : {100, 200, 300}) {
    KJ_IF_MAYBE(turn, pacer->turn(pace)) {
      EXPECT_EQ(*turn, at(expected));
    } else {
      ADD_FAILURE() << "a request beyond the burst went at once";
    }
  }
  EXPECT_EQ(pacer->delayed(), 3u);
}

TEST(RequestPacerTest, AQuietSpellRefillsTheBurstButNeverBeyondIt) {
  kj::TimerImpl timer(at(0));
  auto pacer = kj::refcounted<RequestPacer>(timer);
  auto pace = limits(10, 2);
  EXPECT_TRUE(pacer->turn(pace) == nullptr);
  EXPECT_TRUE(pacer->turn(pace) == nullptr);
  EXPECT_TRUE(pacer->turn(pace) != nullptr);
  timer.advanceTo(at(10000));  // ten seconds of nothing
  EXPECT_TRUE(pacer->turn(pace) == nullptr);
  EXPECT_TRUE(pacer->turn(pace) == nullptr);
  KJ_IF_MAYBE(turn, pacer->turn(pace)) {
    EXPECT_EQ(*turn, at(10100)) << "the burst is 2, however long the pause";
  } else {
    ADD_FAILURE() << "the third request after a pause went at once";
  }
}

TEST(RequestPacerTest, ANewRateTakesEffectOnTheNextRequest) {
  kj::TimerImpl timer(at(0));
  auto pacer = kj::refcounted<RequestPacer>(timer);
  EXPECT_TRUE(pacer->turn(limits(1, 1)) == nullptr);
  EXPECT_TRUE(pacer->turn(limits(1, 1)) != nullptr);  // due at 1 s
  timer.advanceTo(at(2000));
  // A reload raised the pace: the next requests are spaced by the new one.
  EXPECT_TRUE(pacer->turn(limits(1000, 1)) == nullptr);
  KJ_IF_MAYBE(turn, pacer->turn(limits(1000, 1))) {
    EXPECT_EQ(*turn, at(2001));
  } else {
    ADD_FAILURE() << "spacing lost";
  }
}

}  // namespace
}  // namespace airlock::broker

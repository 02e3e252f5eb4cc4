// `airlock audit query`'s filters on parsed records: each condition alone, several values of
// one, several conditions together, and the time range's edges.

#include "audit/record_filter.h"

#include <gtest/gtest.h>

#include "audit/record_time.h"
#include "tests/unit/audit/record_lines.h"

namespace airlock::audit {
namespace {

using namespace testing;

int64_t at(const char* time) {
  KJ_IF_MAYBE(micros, parseRfc3339Micros(time)) { return *micros; }
  ADD_FAILURE() << time;
  return 0;
}

TEST(RecordFilter, AnEmptyFilterMatchesEveryRecord) {
  EXPECT_TRUE(RecordFilter{}.matches(fsOpen(1, "2026-11-26T18:00:00.000000Z", "/a", "deny")));
}

TEST(RecordFilter, EachFieldConditionMatchesOnlyItsValue) {
  auto record = fsOpen(1, "2026-11-26T18:00:00.000000Z", "/srv/images/cat.png", "deny");
  RecordFilter filter;
  filter.units = {"thumbnailer"};
  filter.operations = {"fs.open"};
  filter.decisions = {"deny"};
  filter.rules = {"default-deny"};
  EXPECT_TRUE(filter.matches(record));
  for (auto change : {&RecordFilter::units, &RecordFilter::operations, &RecordFilter::decisions,
                      &RecordFilter::rules}) {
    RecordFilter other = filter;
    (other.*change) = {"something-else"};
    EXPECT_FALSE(other.matches(record));
  }
}

TEST(RecordFilter, SeveralValuesOfOneConditionMatchAnyOfThem) {
  RecordFilter filter;
  filter.units = {"other", "thumbnailer"};
  EXPECT_TRUE(filter.matches(fsOpen(1, "2026-11-26T18:00:00.000000Z", "/a", "deny")));
  filter.units = {"other", "third"};
  EXPECT_FALSE(filter.matches(fsOpen(1, "2026-11-26T18:00:00.000000Z", "/a", "deny")));
}

TEST(RecordFilter, TheCallerMatchesByClientNameByPartOrWhole) {
  auto record = fsOpen(1, "2026-11-26T18:00:00.000000Z", "/a", "allow");
  ASSERT_EQ(record.caller, "client:web,uid:1000");
  for (auto caller : {"web", "client:web", "uid:1000", "client:web,uid:1000"}) {
    RecordFilter filter;
    filter.callers = {caller};
    EXPECT_TRUE(filter.matches(record)) << caller;
  }
  for (auto caller : {"we", "client:webb", "uid:100", "1000", "client:"}) {
    RecordFilter filter;
    filter.callers = {caller};
    EXPECT_FALSE(filter.matches(record)) << caller;
  }
}

TEST(RecordFilter, SinceIsInclusiveAndUntilIsExclusive) {
  auto record = fsOpen(1, "2026-11-26T18:00:00.000000Z", "/a", "allow");
  RecordFilter filter;
  filter.sinceMicros = at("2026-11-26T18:00:00Z");
  EXPECT_TRUE(filter.matches(record));
  filter.sinceMicros = at("2026-11-26T18:00:00.000001Z");
  EXPECT_FALSE(filter.matches(record));
  filter = RecordFilter{};
  filter.untilMicros = at("2026-11-26T18:00:00.000001Z");
  EXPECT_TRUE(filter.matches(record));
  filter.untilMicros = at("2026-11-26T19:00:00+01:00");  // the same instant
  EXPECT_FALSE(filter.matches(record));
}

TEST(RecordFilter, GrepFindsTextInArgumentValuesAtAnyDepthButNotInOtherFields) {
  auto record = parsed(decisionJson(1, "2026-11-26T18:00:00.000000Z", "call", "probe", "allow",
                                    "me", {{"method", "thumbnail"}, {"payload_bytes", 4096},
                                           {"nested", {{"inner", "needle-in-here"}}}}));
  for (auto text : {"thumb", "4096", "needle", "nail"}) {
    RecordFilter filter;
    filter.argsText = {text};
    EXPECT_TRUE(filter.matches(record)) << text;
  }
  for (auto text : {"probe", "method", "me\"", "Thumb", "client:web"}) {
    RecordFilter filter;
    filter.argsText = {text};
    EXPECT_FALSE(filter.matches(record)) << text << ": not an argument value";
  }
}

TEST(RecordFilter, ARecordWithoutTheFieldDoesNotMatchACondition) {
  auto start = parsed({{"seq", 1}, {"time", "2026-11-26T18:00:00.000000Z"},
                       {"event", "broker.start"}, {"prev", std::string(64, '0')}});
  RecordFilter filter;
  filter.decisions = {"allow"};
  EXPECT_FALSE(filter.matches(start));
  filter = RecordFilter{};
  filter.argsText = {"x"};
  EXPECT_FALSE(filter.matches(start));
}

}  // namespace
}  // namespace airlock::audit

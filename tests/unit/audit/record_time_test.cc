// The times --since/--until/--bucket accept, checked against values computed by hand (and by
// `date -u -d ... +%s`).

#include "audit/record_time.h"

#include "audit/audit_log.h"

#include <gtest/gtest.h>

namespace airlock::audit {
namespace {

constexpr int64_t S = 1000000;  // microseconds per second

int64_t orMinusOne(kj::Maybe<int64_t> value) {
  KJ_IF_MAYBE(v, value) { return *v; }
  return -1;
}

TEST(RecordTime, TheRecordsOwnFormatParsesToTheMicrosecond) {
  // date -u -d 2026-11-26T18:33:36Z +%s -> 1795718016
  EXPECT_EQ(orMinusOne(parseRfc3339Micros("2026-11-26T18:33:36.951219Z")),
            1795718016 * S + 951219);
}

TEST(RecordTime, TheStampOfEachRecordIsItsOwnSecondWhicheverWasFormattedBefore) {
  // formatTime keeps the last second's date and time of day: a stamp in the same second, the
  // next second, a second of another day and the earlier second again must each be their own.
  int64_t at = 1795718016 * S;  // 2026-11-26T18:33:36Z
  EXPECT_EQ(AuditLog::formatTime(at + 951219), "2026-11-26T18:33:36.951219Z");
  EXPECT_EQ(AuditLog::formatTime(at + 7), "2026-11-26T18:33:36.000007Z");
  EXPECT_EQ(AuditLog::formatTime(at + S), "2026-11-26T18:33:37.000000Z");
  EXPECT_EQ(AuditLog::formatTime(at + 86400 * S + 999999), "2026-11-27T18:33:36.999999Z");
  EXPECT_EQ(AuditLog::formatTime(at + 951219), "2026-11-26T18:33:36.951219Z");
  EXPECT_EQ(AuditLog::formatTime(0), "1970-01-01T00:00:00.000000Z");
  for (int64_t t : {at, at + S / 2, at + 3 * S + 1, 1709164800 * S + 42}) {
    EXPECT_EQ(orMinusOne(parseRfc3339Micros(AuditLog::formatTime(t))), t);
  }
}

TEST(RecordTime, OffsetsFractionsAndLowerCaseAreRfc3339) {
  int64_t utc = 1795718016 * S;
  EXPECT_EQ(orMinusOne(parseRfc3339Micros("2026-11-26T19:33:36+01:00")), utc);
  EXPECT_EQ(orMinusOne(parseRfc3339Micros("2026-11-26T13:03:36-05:30")), utc);
  EXPECT_EQ(orMinusOne(parseRfc3339Micros("2026-11-26t18:33:36z")), utc);
  EXPECT_EQ(orMinusOne(parseRfc3339Micros("2026-11-26 18:33:36Z")), utc);
  EXPECT_EQ(orMinusOne(parseRfc3339Micros("2026-11-26T18:33:36.5Z")), utc + 500000);
  EXPECT_EQ(orMinusOne(parseRfc3339Micros("2026-11-26T18:33:36.123456789Z")), utc + 123456);
  EXPECT_EQ(orMinusOne(parseRfc3339Micros("1970-01-01T00:00:00Z")), 0);
  EXPECT_EQ(orMinusOne(parseRfc3339Micros("2024-02-29T00:00:00Z")), 1709164800 * S);
}

TEST(RecordTime, MalformedOrOutOfRangeTimesAreRefused) {
  for (auto text : {"", "2026-11-26", "2026-11-26T18:33:36", "2026-13-01T00:00:00Z",
                    "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-26T24:00:00Z",
                    "2026-11-26T18:60:00Z", "2026-11-26T18:33:36.Z", "2026-11-26T18:33:36+1:00",
                    "2026-11-26T18:33:36Zjunk", "26-11-26T18:33:36Z", "yesterday"}) {
    EXPECT_EQ(orMinusOne(parseRfc3339Micros(text)), -1) << text;
  }
}

TEST(RecordTime, DurationsAreWholeNumbersWithAUnit) {
  EXPECT_EQ(orMinusOne(parseDurationMicros("90s")), 90 * S);
  EXPECT_EQ(orMinusOne(parseDurationMicros("15m")), 900 * S);
  EXPECT_EQ(orMinusOne(parseDurationMicros("1h")), 3600 * S);
  EXPECT_EQ(orMinusOne(parseDurationMicros("7d")), 7 * 86400 * S);
  for (auto text : {"", "h", "0m", "1", "1w", "-1h", "1.5h", "1hh", "99999999999999d"}) {
    EXPECT_EQ(orMinusOne(parseDurationMicros(text)), -1) << text;
  }
}

TEST(RecordTime, ABoundIsATimeADateOrAnAgeBackFromNow) {
  int64_t now = 1795718016 * S;
  EXPECT_EQ(orMinusOne(parseTimeBound("1h", now)), now - 3600 * S);
  EXPECT_EQ(orMinusOne(parseTimeBound("2026-11-26", now)), 1795651200 * S);
  EXPECT_EQ(orMinusOne(parseTimeBound("2026-11-26T18:33:36Z", now)), now);
  EXPECT_EQ(orMinusOne(parseTimeBound("2026-11-26x", now)), -1);
  EXPECT_EQ(orMinusOne(parseTimeBound("soon", now)), -1);
}

}  // namespace
}  // namespace airlock::audit

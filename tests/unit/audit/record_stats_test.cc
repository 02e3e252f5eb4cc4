// `airlock audit stats`' counting on parsed records: tallies per unit, operation and rule, the
// most denied argument values, denied requests grouped with their rule, time buckets and their
// merging, the bound on distinct keys, and the JSON for scripts.

#include "audit/record_stats.h"

#include <gtest/gtest.h>

#include "tests/unit/audit/record_lines.h"

namespace airlock::audit {
namespace {

using namespace testing;

constexpr int64_t MINUTE = 60 * 1000000LL;

RecordStats sample() {
  RecordStats stats(MINUTE);
  stats.add(fsOpen(1, "2026-11-26T18:00:10.000000Z", "/srv/images/a.png", "allow"));
  stats.add(fsOpen(2, "2026-11-26T18:00:50.000000Z", "/etc/passwd", "deny"));
  stats.add(fsOpen(3, "2026-11-26T18:01:00.000000Z", "/etc/passwd", "deny"));
  stats.add(fsOpen(4, "2026-11-26T18:03:59.999999Z", "/etc/shadow", "deny", "zipper"));
  stats.add(parsed({{"seq", 5}, {"time", "2026-11-26T18:04:00.000000Z"},
                    {"event", "worker.exit"}, {"prev", std::string(64, '0')},
                    {"unit", "zipper"}, {"result", "killed by SIGKILL"}}));
  return stats;
}

TEST(RecordStats, TalliesSplitEachKeyIntoAllowedAndDenied) {
  auto stats = sample();
  EXPECT_EQ(stats.records(), 5u);
  EXPECT_EQ(stats.totals().allowed, 1u);
  EXPECT_EQ(stats.totals().denied, 3u);
  auto& thumbnailer = stats.byUnit().byKey.at("thumbnailer");
  EXPECT_EQ(thumbnailer.records, 3u);
  EXPECT_EQ(thumbnailer.allowed, 1u);
  EXPECT_EQ(thumbnailer.denied, 2u);
  EXPECT_EQ(stats.byUnit().byKey.at("zipper").records, 2u);
  EXPECT_EQ(stats.byOperation().byKey.at("fs.open").records, 4u);
  EXPECT_EQ(stats.byOperation().byKey.at("worker.exit").records, 1u);
  EXPECT_EQ(stats.byRule().byKey.at("default-deny").denied, 3u);
  EXPECT_EQ(stats.byRule().byKey.size(), 2u) << "records without a rule are not counted there";
}

TEST(RecordStats, TheMostDeniedValuesComeFirstPerArgument) {
  auto stats = sample();
  auto paths = stats.deniedArgs().at("path").topDenied(10);
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0], (std::pair<std::string, uint64_t>{"/etc/passwd", 2}));
  EXPECT_EQ(paths[1], (std::pair<std::string, uint64_t>{"/etc/shadow", 1}));
  EXPECT_EQ(stats.deniedArgs().at("path").topDenied(1).size(), 1u);
  EXPECT_EQ(stats.deniedArgs().at("mode").topDenied(10)[0].second, 3u);
}

TEST(RecordStats, DeniedRequestsAreGroupedByUnitEventArgsAndRule) {
  auto top = sample().topDeniedRequests(10);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].unit, "thumbnailer");
  EXPECT_EQ(top[0].event, "fs.open");
  EXPECT_EQ(top[0].rule, "default-deny");
  EXPECT_EQ(top[0].count, 2u);
  EXPECT_NE(top[0].args.find("/etc/passwd"), std::string::npos);
  EXPECT_EQ(top[1].unit, "zipper");
}

TEST(RecordStats, BucketsHoldDecisionsOnlyAndMergeIntoWiderOnes) {
  auto stats = sample();
  auto minutes = stats.buckets(MINUTE);
  ASSERT_EQ(minutes.size(), 3u) << "18:00, 18:01, 18:03; the worker.exit is no decision";
  EXPECT_EQ(minutes[0].decisions, 2u);
  EXPECT_EQ(minutes[0].allowed, 1u);
  EXPECT_EQ(minutes[0].denied, 1u);
  EXPECT_EQ(minutes[1].startMicros - minutes[0].startMicros, MINUTE);
  EXPECT_EQ(minutes[2].startMicros - minutes[0].startMicros, 3 * MINUTE);
  auto fiveMinutes = stats.buckets(5 * MINUTE);
  ASSERT_EQ(fiveMinutes.size(), 1u);
  EXPECT_EQ(fiveMinutes[0].decisions, 4u);
  EXPECT_EQ(fiveMinutes[0].denied, 3u);
  EXPECT_ANY_THROW(stats.buckets(90 * 1000000LL)) << "90 s is not a multiple of a minute";
}

TEST(RecordStats, DistinctDeniedValuesAreBoundedAndTheRestCounted) {
  RecordStats stats(MINUTE);
  size_t extra = 5;
  for (size_t i = 0; i < TallyTable::MAX_DISTINCT + extra; ++i) {
    stats.add(fsOpen(i + 1, "2026-11-26T18:00:00.000000Z", "/p/" + std::to_string(i), "deny"));
  }
  auto& paths = stats.deniedArgs().at("path");
  EXPECT_EQ(paths.byKey.size(), TallyTable::MAX_DISTINCT);
  EXPECT_EQ(paths.otherRecords, extra);
  EXPECT_EQ(stats.totals().denied, TallyTable::MAX_DISTINCT + extra) << "totals count all";
}

TEST(RecordStats, TheJsonCarriesEveryCount) {
  auto json = sample().toJson(1);
  EXPECT_EQ(json["records"], 5);
  EXPECT_EQ(json["denied"], 3);
  EXPECT_EQ(json["first"], "2026-11-26T18:00:10.000000Z");
  EXPECT_EQ(json["last"], "2026-11-26T18:04:00.000000Z");
  EXPECT_EQ(json["by_unit"]["thumbnailer"]["denied"], 2);
  EXPECT_EQ(json["by_operation"]["fs.open"]["allowed"], 1);
  EXPECT_EQ(json["by_rule"]["default-deny"]["records"], 3);
  ASSERT_EQ(json["top_denied"]["path"].size(), 1u) << "top 1";
  EXPECT_EQ(json["top_denied"]["path"][0]["value"], "/etc/passwd");
  EXPECT_EQ(json["top_denied"]["path"][0]["denied"], 2);
  EXPECT_EQ(json["rate"]["bucket_seconds"], 60);
  ASSERT_EQ(json["rate"]["buckets"].size(), 3u);
  EXPECT_EQ(json["rate"]["buckets"][0]["start"], "2026-11-26T18:00:00.000000Z");
  EXPECT_EQ(json["rate"]["buckets"][2]["denied"], 1);
}

}  // namespace
}  // namespace airlock::audit

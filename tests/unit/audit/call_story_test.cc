// One call's story: its own records, those of the calls nested in it through invoke (whose
// invoke record naming the parent comes after their own), and none of another broker run's
// call that happens to have the same id.

#include "audit/call_story.h"

#include <gtest/gtest.h>

#include "tests/unit/audit/record_lines.h"

namespace airlock::audit {
namespace {

using namespace testing;

LoggedRecord rec(uint64_t seq, const std::string& event, const std::string& callId,
                 nlohmann::ordered_json args = nlohmann::ordered_json::object()) {
  nlohmann::ordered_json json = {{"seq", seq}, {"time", "2026-11-26T18:00:00.000000Z"},
                                 {"event", event}, {"prev", std::string(64, '0')}};
  if (!callId.empty()) json["call_id"] = callId;
  if (!args.empty()) json["args"] = args;
  return parsed(json);
}

std::vector<uint64_t> told(const std::vector<LoggedRecord>& records, const std::string& id) {
  CallStory story(id);
  for (auto& record : records) story.learn(record);
  std::vector<uint64_t> seqs;
  for (auto& record : records) {
    if (story.tells(record)) seqs.push_back(record.seq);
  }
  return seqs;
}

TEST(CallStory, TellsTheCallAndItsNestedCallsInLogOrderWithinItsRun) {
  std::vector<LoggedRecord> log = {
      rec(1, "broker.start", ""),
      rec(2, "call.admitted", "c-1"),
      rec(3, "call.admitted", "c-2", {{"parent_call_id", "c-1"}}),  // the nested call
      rec(4, "fs.open", "c-2"),
      rec(5, "call", "c-2", {{"parent_call_id", "c-1"}}),
      rec(6, "invoke", "c-2", {{"parent_call_id", "c-1"}}),
      rec(7, "call.admitted", "c-3"),                               // another call
      rec(8, "worker.exit", "", {{"serving_call_ids", {"c-1", "c-3"}}}),
      rec(9, "call", "c-1"),
      rec(10, "broker.start", ""),
      rec(11, "call", "c-1"),                                       // the next run's c-1
  };
  EXPECT_EQ(told(log, "c-1"), (std::vector<uint64_t>{2, 3, 4, 5, 6, 8, 9, 11}));
  EXPECT_EQ(told(log, "c-2"), (std::vector<uint64_t>{3, 4, 5, 6}));
  EXPECT_EQ(told(log, "c-3"), (std::vector<uint64_t>{7, 8}));
  EXPECT_EQ(told(log, "c-9"), (std::vector<uint64_t>{}));

  CallStory story("c-1");
  for (auto& record : log) story.learn(record);
  std::vector<uint64_t> runs;
  for (auto& record : log) {
    if (story.tells(record)) runs.push_back(story.run());
  }
  EXPECT_EQ(runs, (std::vector<uint64_t>{1, 1, 1, 1, 1, 1, 1, 2}));
}

}  // namespace
}  // namespace airlock::audit

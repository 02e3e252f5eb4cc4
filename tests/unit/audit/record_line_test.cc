// The record writer against its oracle: a line must be byte for byte what nlohmann's compact
// dump of the same fields gives, because the verifier's scanner accepts nothing else as proven.

#include "audit/record_line.h"

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "audit/record_scanner.h"

namespace airlock::audit {
namespace {

using Json = nlohmann::ordered_json;

constexpr char PREV[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr char TIME[] = "2026-11-27T06:00:00.123456Z";

// The form every record had when it was built as a JSON tree and dumped.
std::string oracleLine(const RecordHeader& header, const AuditRecord& r) {
  Json j;
  j["seq"] = header.seq;
  j["time"] = std::string(header.time);
  j["event"] = r.event;
  j["prev"] = std::string(header.prev);
  auto putIfSet = [&j](const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
  };
  putIfSet("unit", r.unit);
  if (r.workerPid != 0) j["worker_pid"] = r.workerPid;
  putIfSet("caller", r.caller);
  putIfSet("call_id", r.callId);
  if (!r.args.empty()) j["args"] = r.args;
  putIfSet("decision", r.decision);
  putIfSet("rule", r.rule);
  if (r.policyRev) j["policy_rev"] = *r.policyRev;
  putIfSet("reason", r.reason);
  putIfSet("result", r.result);
  if (r.durationMicros >= 0) j["duration_us"] = r.durationMicros;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string asJsonString(std::string_view text) {
  std::string out;
  appendJsonString(out, text);
  return out;
}

std::string oracleJsonString(std::string_view text) {
  return Json(std::string(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

TEST(RecordLineTest, AFullCallRecordIsTheSameLineTheJsonTreeGave) {
  AuditRecord r;
  r.event = "call";
  r.unit = "thumbnailer";
  r.workerPid = 4242;
  r.caller = "client web (uid 1000)";
  r.callId = "c-17";
  r.args["method"] = "thumbnail";
  r.args["path"] = "/srv/images/\"odd\"\n\u00e9.png";
  r.decision = "allow";
  r.rule = "web-may-thumbnail";
  r.policyRev = std::make_shared<const std::string>("rev-1");
  r.reason = "caller listed";
  r.result = "ok";
  r.durationMicros = 42;
  RecordHeader header{18446744073709551615u, TIME, PREV};
  std::string line = formatRecordLine(header, r);
  EXPECT_EQ(line, oracleLine(header, r));
  EXPECT_NE(scanCanonicalRecord(line), nullptr) << line;
}

TEST(RecordLineTest, FieldsLeftUnsetAreLeftOutAsBefore) {
  AuditRecord r;  // an empty event still has its field; an empty policy_rev would too
  r.policyRev = std::make_shared<const std::string>("");
  RecordHeader header{1, TIME, PREV};
  EXPECT_EQ(formatRecordLine(header, r), oracleLine(header, r));
  r.policyRev = nullptr;
  r.workerPid = -7;
  r.durationMicros = 0;
  EXPECT_EQ(formatRecordLine(header, r), oracleLine(header, r));
}

TEST(RecordLineTest, EveryControlCharacterAndEveryAsciiByteIsEscapedAsNlohmannDoes) {
  for (int c = 0; c < 0x80; ++c) {
    std::string text = "a" + std::string(1, static_cast<char>(c)) + "z";
    EXPECT_EQ(asJsonString(text), oracleJsonString(text)) << "byte " << c;
  }
}

TEST(RecordLineTest, InvalidUtf8IsReplacedExactlyAsNlohmannReplacesIt) {
  for (const char* text : {"\x80", "\xff", "\xc0\xaf", "\xc2", "\xe0\x80\x80", "\xe0\xa0",
                           "\xed\xa0\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80",
                           "ok\xe2\x82", "\xe2\x82\xac\xe2\x28\xa1", "\xf0\x9f\x98\x80!",
                           "\xc3\x28", "\xe1\x80\xc3\xa9"}) {
    EXPECT_EQ(asJsonString(text), oracleJsonString(text)) << Json(std::string(text)).dump(
        -1, ' ', true, Json::error_handler_t::replace);
  }
}

TEST(RecordLineTest, RandomBytesGiveTheOraclesStringsAndScannableLines) {
  std::mt19937 random(20261127);
  std::uniform_int_distribution<int> length(0, 24), byte(0, 255), kind(0, 3);
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    for (int i = length(random); i > 0; --i) {
      // Mostly bytes that matter: high bytes, control characters, quotes and backslashes.
      int pick = kind(random);
      text += static_cast<char>(pick == 0   ? 0x80 + byte(random) % 0x80
                                : pick == 1 ? byte(random) % 0x20
                                : pick == 2 ? "\"\\/a"[byte(random) % 4]
                                            : byte(random));
    }
    ASSERT_EQ(asJsonString(text), oracleJsonString(text)) << "round " << round;
    AuditRecord r;
    r.event = "fs.open";
    r.reason = text;
    r.args["path"] = text;
    RecordHeader header{static_cast<uint64_t>(round) + 1, TIME, PREV};
    std::string line = formatRecordLine(header, r);
    ASSERT_EQ(line, oracleLine(header, r)) << "round " << round;
    ASSERT_NE(scanCanonicalRecord(line), nullptr) << line;
  }
}

}  // namespace
}  // namespace airlock::audit

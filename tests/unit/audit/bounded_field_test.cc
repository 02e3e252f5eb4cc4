#include "audit/bounded_field.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit/chain.h"
#include "audit/record_line.h"

namespace airlock::audit {
namespace {

TEST(BoundedFieldTest, TextWithinTheBoundIsKeptWhole) {
  std::string text(MAX_RECORD_FIELD_BYTES, 'x');
  EXPECT_EQ(boundedField(text), text);
  EXPECT_EQ(boundedField("short", 5), "short");
}

TEST(BoundedFieldTest, LongerTextKeepsAPrefixItsLengthAndItsHash) {
  std::string text = std::string(100, 'a') + "tail";
  EXPECT_EQ(boundedField(text, 10),
            std::string(10, 'a') + " [cut: 104 bytes, blake2b-256 " + lineHashHex(text) + "]");
}

TEST(BoundedFieldTest, EveryStringARecordHoldsIsWrittenBounded) {
  std::string huge(1 << 20, 'h');
  AuditRecord record;
  record.event = "call";
  record.unit = huge;
  record.caller = huge;
  record.callId = huge;
  record.decision = huge;
  record.rule = huge;
  record.reason = huge;
  record.result = huge;
  record.args["method"] = huge;
  record.args["nested"] = {{"list", {huge, 1, huge}}};
  std::string line = formatRecordLine(RecordHeader{1, "t", ZERO_HASH_HEX}, record);
  EXPECT_LT(line.size(), 12 * (MAX_RECORD_FIELD_BYTES + 120)) << "twelve bounded strings at most";
  auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["unit"], boundedField(huge));
  EXPECT_EQ(parsed["args"]["method"], boundedField(huge));
  EXPECT_EQ(parsed["args"]["nested"]["list"][2], boundedField(huge));
  EXPECT_EQ(parsed["args"]["nested"]["list"][1], 1);
}

}  // namespace
}  // namespace airlock::audit

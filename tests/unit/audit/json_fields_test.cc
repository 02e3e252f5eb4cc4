// Reading fields of records that may be hostile: a field of the wrong type reads as absent,
// never as an exception.

#include "audit/json_fields.h"

#include <gtest/gtest.h>

namespace airlock::audit {
namespace {

using Json = nlohmann::ordered_json;

TEST(JsonFieldsTest, AStringFieldReadsAsItsText) {
  Json record = Json::parse(R"({"seq":4,"event":"checkpoint","closing":true})");
  EXPECT_EQ(stringField(record, "event"), "checkpoint");
  EXPECT_TRUE(hasUnsignedField(record, "seq"));
  EXPECT_TRUE(trueField(record, "closing"));
}

TEST(JsonFieldsTest, AFieldOfAnotherTypeReadsAsAbsentInsteadOfThrowing) {
  // nlohmann's value("event", "") throws type_error on each of these.
  for (const char* text : {R"({"seq":-1,"event":41,"closing":"yes"})",
                           R"({"seq":"4","event":null,"closing":1})",
                           R"({"seq":4.5,"event":["checkpoint"],"closing":{}})"}) {
    Json record = Json::parse(text);
    EXPECT_EQ(stringField(record, "event"), "") << text;
    EXPECT_FALSE(hasUnsignedField(record, "seq")) << text;
    EXPECT_FALSE(trueField(record, "closing")) << text;
  }
}

TEST(JsonFieldsTest, ARecordThatIsNotAnObjectHasNoFields) {
  for (const char* text : {"41", R"("event")", "[1,2]", "null"}) {
    nlohmann::json record = nlohmann::json::parse(text);
    EXPECT_EQ(stringField(record, "event"), "") << text;
    EXPECT_FALSE(hasUnsignedField(record, "seq")) << text;
  }
  Json discarded = Json::parse("{", nullptr, /*allow_exceptions=*/false);
  EXPECT_EQ(stringField(discarded, "event"), "");
}

}  // namespace
}  // namespace airlock::audit

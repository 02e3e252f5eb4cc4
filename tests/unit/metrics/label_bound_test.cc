#include "broker/metrics/label_bound.h"

#include <gtest/gtest.h>

namespace airlock::broker::metrics {
namespace {

TEST(LabelBoundTest, TheFirstValuesAreKeptAndLaterNewOnesCountAsOther) {
  LabelBound bound(2);
  EXPECT_EQ(bound.admit("a"), "a");
  EXPECT_EQ(bound.admit("b"), "b");
  EXPECT_EQ(bound.admit("c"), OTHER_LABEL);
  EXPECT_EQ(bound.admit("a"), "a");  // seen before the cap: still itself
  EXPECT_EQ(bound.admit("d"), OTHER_LABEL);
}

TEST(LabelBoundTest, BytesOutsidePrintableAsciiBecomeQuestionMarks) {
  EXPECT_EQ(printableLabel(std::string("r\xc3\xa9sum\xe9\n\x01\"ok\"", 13)), "r??sum???\"ok\"");
  LabelBound bound(4);
  EXPECT_EQ(bound.admit("tab\there"), "tab?here");
}

}  // namespace
}  // namespace airlock::broker::metrics

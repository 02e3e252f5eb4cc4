#include "broker/caps/log.h"

#include <gtest/gtest.h>

namespace airlock::broker {
namespace {

TEST(SanitizeLogLine, PrintableTextIsKeptAsIs) {
  EXPECT_EQ(sanitizeLogLine("decoded 3 frames in 12 ms"), "decoded 3 frames in 12 ms");
}

TEST(SanitizeLogLine, NewlinesControlBytesBackslashesAndNonAsciiAreEscapedSoOneCallIsOneLine) {
  EXPECT_EQ(sanitizeLogLine("a\nairlockd FORGED\r\x1b[2J\\\xc2\x9b"),
            "a\\x0aairlockd FORGED\\x0d\\x1b[2J\\x5c\\xc2\\x9b");
}

TEST(SanitizeLogLine, ALineOverTheLimitIsCutWithAMarkerNamingWhatWasCut) {
  std::string line = sanitizeLogLine(std::string(MAX_LOG_LINE_BYTES + 10, 'y'));
  EXPECT_EQ(line, std::string(MAX_LOG_LINE_BYTES, 'y') + " [cut 10 bytes]");
  EXPECT_EQ(sanitizeLogLine(std::string(MAX_LOG_LINE_BYTES, 'y')).size(), MAX_LOG_LINE_BYTES);
}

}  // namespace
}  // namespace airlock::broker

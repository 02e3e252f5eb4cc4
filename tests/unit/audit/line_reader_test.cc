// LineReader on real files: lines split across reads and longer than its buffer come back whole,
// a last line without '\n' is flagged, an empty file has no lines.

#include "audit/line_reader.h"

#include <gtest/gtest.h>
#include <kj/debug.h>

#include <fstream>

#include "tests/unit/audit/test_log.h"

namespace airlock::audit {
namespace {

using namespace testing;

std::vector<std::pair<std::string, bool>> readAll(const std::string& path) {
  std::string error;
  auto opened = LineReader::open(path, error);
  auto reader = kj::mv(KJ_ASSERT_NONNULL(opened));
  std::vector<std::pair<std::string, bool>> lines;
  std::string_view line;
  bool whole = false;
  while (reader->next(line, whole)) lines.emplace_back(std::string(line), whole);
  EXPECT_EQ(reader->readErrno(), 0);
  return lines;
}

TEST(LineReader, LinesLongerThanItsBufferAndALastLineWithoutNewlineComeBackWhole) {
  ScratchDir dir;
  std::string huge(3 << 20, 'h');  // three times the initial buffer
  std::vector<std::string> expected;
  for (int i = 0; i < 5000; ++i) expected.push_back(std::string(i % 700, 'a' + i % 26));
  expected.insert(expected.begin() + 2500, huge);
  expected.push_back("");
  {
    std::ofstream out(dir.file("f"), std::ios::binary);
    for (auto& line : expected) out << line << "\n";
    out << "partial";
  }
  auto lines = readAll(dir.file("f"));
  ASSERT_EQ(lines.size(), expected.size() + 1);
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(lines[i].first, expected[i]) << "line " << i + 1;
    ASSERT_TRUE(lines[i].second);
  }
  EXPECT_EQ(lines.back().first, "partial");
  EXPECT_FALSE(lines.back().second);
}

TEST(LineReader, AnEmptyFileHasNoLinesAndAMissingOneSaysWhy) {
  ScratchDir dir;
  std::ofstream(dir.file("empty"));
  EXPECT_TRUE(readAll(dir.file("empty")).empty());
  std::string error;
  EXPECT_EQ(LineReader::open(dir.file("absent"), error), nullptr);
  EXPECT_EQ(error, "No such file or directory");
}

}  // namespace
}  // namespace airlock::audit

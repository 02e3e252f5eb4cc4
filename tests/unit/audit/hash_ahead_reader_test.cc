// HashAheadReader on real files: hashed ahead on a second thread or inline, over chunks far
// smaller than the lines or far larger, it gives exactly LineReader's lines with their lineHash,
// and stopping early joins its thread.

#include "audit/hash_ahead_reader.h"

#include <gtest/gtest.h>
#include <kj/debug.h>

#include <fstream>

#include "tests/unit/audit/test_log.h"

namespace airlock::audit {
namespace {

using namespace testing;

struct ReadLine {
  std::string text;
  bool whole;
  std::string hash;  // empty for a partial line: nothing hashes it

  bool operator==(const ReadLine&) const = default;
};

kj::Own<LineReader> openReader(const std::string& path) {
  std::string error;
  auto opened = LineReader::open(path, error);
  return kj::mv(KJ_ASSERT_NONNULL(opened, error));
}

// What the verifier did before: LineReader's lines, each hashed on the spot.
std::vector<ReadLine> readDirectly(const std::string& path) {
  auto reader = openReader(path);
  std::vector<ReadLine> lines;
  std::string_view line;
  bool whole = false;
  while (reader->next(line, whole)) {
    lines.push_back({std::string(line), whole, whole ? lineHashHex(line) : ""});
  }
  EXPECT_EQ(reader->readErrno(), 0);
  return lines;
}

std::vector<ReadLine> readHashed(const std::string& path, LineHashing hashing,
                                 size_t chunkBytes) {
  HashAheadReader reader(openReader(path), hashing, chunkBytes);
  std::vector<ReadLine> lines;
  std::string_view line;
  bool whole = false;
  while (reader.next(line, whole)) {
    lines.push_back({std::string(line), whole, whole ? std::string(view(reader.hash())) : ""});
  }
  EXPECT_FALSE(reader.next(line, whole)) << "the end stays the end";
  EXPECT_EQ(reader.readErrno(), 0);
  return lines;
}

// Lines of every length from empty to past LineReader's 1 MiB buffer, ending without '\n'.
void writeAwkwardFile(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < 6000; ++i) out << std::string(i % 900, 'a' + i % 26) << "\n";
  out << std::string(3 << 20, 'h') << "\n";  // longer than a chunk and than LineReader's buffer
  for (int i = 0; i < 3000; ++i) out << "{\"seq\":" << i << "}\n";
  out << "\n\n" << "partial";
}

TEST(HashAheadReader, GivesLineReadersLinesAndTheirHashesForAnyChunkSize) {
  ScratchDir dir;
  writeAwkwardFile(dir.file("f"));
  auto expected = readDirectly(dir.file("f"));
  ASSERT_EQ(expected.size(), 6000u + 1 + 3000 + 2 + 1);
  ASSERT_FALSE(expected.back().whole);
  for (size_t chunkBytes : {size_t{1}, size_t{4096}, size_t{100000}, HashAheadReader::CHUNK_BYTES,
                            size_t{64} << 20}) {
    for (LineHashing hashing : {LineHashing::AHEAD, LineHashing::INLINE}) {
      auto lines = readHashed(dir.file("f"), hashing, chunkBytes);
      ASSERT_EQ(lines.size(), expected.size()) << "chunk bytes " << chunkBytes;
      for (size_t i = 0; i < lines.size(); ++i) {
        ASSERT_EQ(lines[i], expected[i]) << "line " << i + 1 << ", chunk bytes " << chunkBytes;
      }
    }
  }
}

TEST(HashAheadReader, AnEmptyFileAndAFileOfOnePartialLineAreReadAsLineReaderReadsThem) {
  ScratchDir dir;
  std::ofstream(dir.file("empty"));
  std::ofstream(dir.file("partial"), std::ios::binary) << "no newline";
  for (LineHashing hashing : {LineHashing::AHEAD, LineHashing::INLINE}) {
    EXPECT_TRUE(readHashed(dir.file("empty"), hashing, 16).empty());
    auto lines = readHashed(dir.file("partial"), hashing, 16);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], (ReadLine{"no newline", false, ""}));
  }
}

TEST(HashAheadReader, StoppingAfterAFewLinesJoinsTheHashingThread) {
  ScratchDir dir;
  writeAwkwardFile(dir.file("f"));
  // Small chunks, so that the thread is blocked handing one over when the reader goes away.
  for (int stopAfter : {0, 1, 50}) {
    HashAheadReader reader(openReader(dir.file("f")), LineHashing::AHEAD, 256);
    std::string_view line;
    bool whole = false;
    for (int i = 0; i < stopAfter; ++i) ASSERT_TRUE(reader.next(line, whole));
  }
}

TEST(HashAheadReader, HashesInlineWhenAskedTo) {
  ScratchDir dir;
  writeAwkwardFile(dir.file("f"));
  HashAheadReader reader(openReader(dir.file("f")), LineHashing::INLINE);
  EXPECT_FALSE(reader.hashesAhead());
}

}  // namespace
}  // namespace airlock::audit

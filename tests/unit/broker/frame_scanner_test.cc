#include "broker/server/frame_scanner.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace airlock::broker {
namespace {

std::string le32(uint32_t v) {
  char bytes[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                   static_cast<char>(v >> 24)};
  return std::string(bytes, 4);
}

// A whole Cap'n Proto frame: the segment table (padded to a word) and zeroed segments.
std::string frame(const std::vector<uint32_t>& words, bool withBody = true) {
  std::string out = le32(static_cast<uint32_t>(words.size() - 1));
  uint64_t total = 0;
  for (uint32_t w : words) {
    out += le32(w);
    total += w;
  }
  if (out.size() % 8 != 0) out += std::string(4, '\0');
  if (withBody) out += std::string(total * 8, '\0');
  return out;
}

bool feedAll(FrameScanner& scanner, const std::string& bytes, uint64_t maxBytes,
             size_t pieceBytes) {
  for (size_t at = 0; at < bytes.size(); at += pieceBytes) {
    size_t n = std::min(pieceBytes, bytes.size() - at);
    if (scanner.feed(reinterpret_cast<const uint8_t*>(bytes.data() + at), n, maxBytes)) {
      return true;
    }
  }
  return false;
}

TEST(FrameScannerTest, MessagesWithinTheBoundPassInAnyPieces) {
  std::string stream = frame({2}) + frame({1, 1}) + frame({0}) + frame({3, 0, 4});
  for (size_t piece : {1u, 3u, 7u, 8u, 64u, 4096u}) {
    SCOPED_TRACE(piece);
    FrameScanner scanner;
    EXPECT_FALSE(feedAll(scanner, stream, 64, piece));
    EXPECT_EQ(scanner.messagesSeen(), 4u);
  }
}

TEST(FrameScannerTest, AHeaderAnnouncingMoreThanTheBoundIsRefusedBeforeItsBody) {
  FrameScanner scanner;
  // Only the header of a 48 MiB message: refused without waiting for a byte of it.
  EXPECT_TRUE(feedAll(scanner, frame({(48u << 20) / 8}, false), 16 << 10, 1));
  EXPECT_EQ(scanner.refused().segments, 1u);
  EXPECT_EQ(scanner.refused().bytes, 48u << 20);
  EXPECT_TRUE(scanner.feed(nullptr, 0, 16 << 10)) << "the stream stays refused";
}

TEST(FrameScannerTest, ABoundExceededOnlyBySegmentsTogetherIsRefused) {
  FrameScanner scanner;
  EXPECT_FALSE(feedAll(scanner, frame({100}), 800, 5));
  EXPECT_TRUE(feedAll(scanner, frame({60, 41}, false), 800, 5));
  EXPECT_EQ(scanner.refused().bytes, 808u);
}

TEST(FrameScannerTest, MoreSegmentsThanCapnProtoReadsAreRefused) {
  FrameScanner scanner;
  EXPECT_TRUE(feedAll(scanner, le32(FrameScanner::MAX_SEGMENTS), 1 << 20, 4));
  EXPECT_EQ(scanner.refused().segments, FrameScanner::MAX_SEGMENTS + 1);
  FrameScanner wrapped;  // 0xffffffff + 1 segments: no wrap to zero
  EXPECT_TRUE(feedAll(wrapped, le32(0xffffffffu), 1 << 20, 4));
  EXPECT_EQ(wrapped.refused().segments, 0x100000000u);
}

// An rpc.capnp Message with union tag `tag`: the root pointer (offset 0, one data word, one
// pointer), the data word holding the tag, a null pointer.
std::string rpcMessage(uint16_t tag) {
  std::string body(24, '\0');
  body[4] = 1;  // data words
  body[6] = 1;  // pointers
  body[8] = static_cast<char>(tag);
  body[9] = static_cast<char>(tag >> 8);
  return le32(0) + le32(3) + body;
}

TEST(FrameScannerTest, CallsAndBootstrapsOpenQuestionsAndFinishesCloseThem) {
  FrameScanner scanner;
  std::string stream = rpcMessage(FrameScanner::BOOTSTRAP_TAG) + rpcMessage(FrameScanner::CALL_TAG) +
                       rpcMessage(FrameScanner::CALL_TAG) + rpcMessage(FrameScanner::FINISH_TAG) +
                       rpcMessage(6 /* release */) + rpcMessage(3 /* return */);
  EXPECT_FALSE(feedAll(scanner, stream, 1 << 20, 5));
  EXPECT_EQ(scanner.openQuestions(), 2u);
  EXPECT_FALSE(feedAll(scanner, rpcMessage(FrameScanner::FINISH_TAG) +
                                    rpcMessage(FrameScanner::FINISH_TAG) +
                                    rpcMessage(FrameScanner::FINISH_TAG),
                       1 << 20, 7));
  EXPECT_EQ(scanner.openQuestions(), 0u) << "a Finish too many does not go below zero";
}

TEST(FrameScannerTest, AMessageWhoseTagCannotBeReadCountsAsAQuestion) {
  FrameScanner scanner;
  std::string farRoot = rpcMessage(FrameScanner::FINISH_TAG);
  farRoot[8] = 2;  // a far pointer as the root: the tag is elsewhere
  std::string movedRoot = rpcMessage(FrameScanner::FINISH_TAG);
  movedRoot[8] = 4;  // the root struct one word further on
  std::string empty = le32(0) + le32(0);
  EXPECT_FALSE(feedAll(scanner, farRoot + movedRoot + empty, 1 << 20, 3));
  EXPECT_EQ(scanner.openQuestions(), 3u);
}

}  // namespace
}  // namespace airlock::broker

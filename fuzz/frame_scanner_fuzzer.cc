// libFuzzer target for FrameScanner (broker/server/frame_scanner.h), which reads Cap'n Proto's
// framing in every byte a host sends before authenticating. Input: 4 bytes of size bound, 1 byte
// seeding how the rest is cut into reads, then the stream. Invariants:
//   - reading the stream in any cuts gives the same verdict, refused header and message count as
//     reading it whole in a plain reference parser written from capnp/serialize.h's framing;
//   - nothing over the bound, and no message of more than MAX_SEGMENTS segments, is accepted.

#include <cstdint>
#include <cstring>
#include <string>

#include "broker/server/frame_scanner.h"
#include "fuzz/fuzz_check.h"

namespace {

using airlock::broker::FrameScanner;

uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

struct Verdict {
  bool refused = false;
  FrameScanner::Header header;
  uint64_t messages = 0;
  uint64_t openQuestions = 0;
};

// A message's effect on the open questions, from its whole body (`size` bytes at `body`), read
// as rpc.capnp's Message: Call and Bootstrap open one, Finish closes one, and a message whose tag
// is not in the root struct's first data word right after the root pointer counts as opening one.
void countQuestion(const uint8_t* body, size_t size, uint64_t& open) {
  bool readable = size >= 8 && (body[0] & 3) == 0;
  uint16_t tag = 0;
  if (readable) {
    uint32_t low = le32(body);
    int32_t offset = static_cast<int32_t>(low) >> 2;
    uint16_t dataWords = static_cast<uint16_t>(body[4] | body[5] << 8);
    if (dataWords > 0) {
      readable = offset == 0 && size >= 10;
      if (readable) tag = static_cast<uint16_t>(body[8] | body[9] << 8);
    }
  }
  if (!readable || tag == FrameScanner::CALL_TAG || tag == FrameScanner::BOOTSTRAP_TAG) {
    ++open;
  } else if (tag == FrameScanner::FINISH_TAG && open > 0) {
    --open;
  }
}

// The whole stream at once: each header in turn, refusing the first one over the bound (as soon
// as its running size sum is over it, or its count is over MAX_SEGMENTS).
Verdict reference(const uint8_t* data, size_t size, uint64_t maxBytes) {
  Verdict v;
  size_t at = 0;
  for (;;) {
    if (size - at < 4) return v;
    uint64_t segments = static_cast<uint64_t>(le32(data + at)) + 1;
    at += 4;
    if (segments > FrameScanner::MAX_SEGMENTS) {
      v.refused = true;
      v.header = {segments, 0};
      return v;
    }
    uint64_t words = 0;
    for (uint64_t i = 0; i < segments; ++i) {
      if (size - at < 4) return v;
      words += le32(data + at);
      at += 4;
      if (words * 8 > maxBytes) {
        v.refused = true;
        v.header = {segments, words * 8};
        return v;
      }
    }
    size_t padding = (4 + 4 * segments) % 8 == 0 ? 0 : 4;
    if (size - at < padding) return v;
    at += padding;
    ++v.messages;
    size_t available = size - at < words * 8 ? size - at : words * 8;
    // The scanner reads the tag from the first 16 bytes: counted once they are in.
    size_t needed = words * 8 < FrameScanner::TAG_BYTES ? words * 8 : FrameScanner::TAG_BYTES;
    if (available >= needed) countQuestion(data + at, available, v.openQuestions);
    if (size - at < words * 8) return v;
    at += words * 8;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using airlock::fuzz::fuzzCheck;
  if (size < 5) return 0;
  uint64_t maxBytes = le32(data);
  uint8_t cuts = data[4];
  data += 5;
  size -= 5;

  Verdict expected = reference(data, size, maxBytes);
  FrameScanner scanner;
  bool refused = false;
  uint32_t state = cuts | 1u;
  for (size_t at = 0; at < size && !refused;) {
    state = state * 1103515245u + 12345u;
    size_t n = 1 + (state >> 16) % 64;
    if (n > size - at) n = size - at;
    refused = scanner.feed(data + at, n, maxBytes);
    at += n;
  }
  std::string detail = "bound " + std::to_string(maxBytes) + ", " + std::to_string(size) +
                       " bytes, expected refused=" + std::to_string(expected.refused) +
                       " messages=" + std::to_string(expected.messages);
  fuzzCheck(refused == expected.refused, "same verdict whole and in pieces", detail);
  if (refused) {
    fuzzCheck(scanner.refused().segments == expected.header.segments &&
                  scanner.refused().bytes == expected.header.bytes,
              "same refused header", detail);
    fuzzCheck(scanner.refused().segments > FrameScanner::MAX_SEGMENTS ||
                  scanner.refused().bytes > maxBytes,
              "a refusal is over a bound", detail);
    fuzzCheck(scanner.feed(data, 0, maxBytes), "refused for ever", detail);
  } else {
    fuzzCheck(scanner.messagesSeen() == expected.messages, "same messages accepted", detail);
    fuzzCheck(scanner.openQuestions() == expected.openQuestions, "same open questions",
              detail + " open " + std::to_string(scanner.openQuestions()) + " vs " +
                  std::to_string(expected.openQuestions));
  }
  return 0;
}

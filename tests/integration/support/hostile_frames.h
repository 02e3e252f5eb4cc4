#pragma once
// Bytes a hostile peer writes onto a Cap'n Proto stream, shared by the probe worker (which
// writes them onto its broker channel) and the tests that write them onto the host socket, so
// both ends of the broker meet the same attacks.
//
// The stream framing: (segment count - 1), then each segment's size in words, as little-endian
// uint32, padded to a whole word; then the segments.

#include <capnp/message.h>
#include <capnp/rpc.capnp.h>
#include <capnp/serialize.h>

#include <cstdint>
#include <string>
#include <vector>

namespace airlock::testing::hostile {

inline std::string frameHeader(uint32_t segmentCountMinusOne, uint32_t firstSegmentWords) {
  uint32_t words[2] = {segmentCountMinusOne, firstSegmentWords};
  return std::string(reinterpret_cast<const char*>(words), sizeof(words));
}

// 4 KiB of 0xff: a header announcing 2^32 segments, then more of the same.
inline std::string junk() { return std::string(4096, '\xff'); }

// A header announcing 2^31 segments (Cap'n Proto allows 512), then zeros.
inline std::string hugeSegmentCount() {
  return frameHeader(0x7fffffff, 1) + std::string(4096, '\0');
}

// One segment of 2^31 words (16 GiB), far past the traversal limit; then zeros.
inline std::string hugeSegment() { return frameHeader(0, 0x80000000u) + std::string(4096, '\0'); }

// The start of a frame announcing 16 words, of which one arrives: the sender then hangs up.
inline std::string truncatedFrame() { return frameHeader(0, 16) + std::string(8, '\0'); }

// A well-formed frame whose root is a chain of `depth` nested structs: each one data word (the
// rpc Message union's discriminant 0, `unimplemented`, whose payload is again a Message) and one
// pointer to the next struct, immediately after it.
inline std::string deepNesting(uint32_t depth = 100000) {
  constexpr uint64_t STRUCT_POINTER_TO_NEXT_WORD = (uint64_t{1} << 32) | (uint64_t{1} << 48);
  std::vector<uint64_t> segment;
  segment.reserve(1 + 2 * size_t{depth});
  segment.push_back(STRUCT_POINTER_TO_NEXT_WORD);  // the root: offset 0, the struct right after
  for (uint32_t level = 0; level < depth; ++level) {
    segment.push_back(0);
    segment.push_back(level + 1 < depth ? STRUCT_POINTER_TO_NEXT_WORD : 0);
  }
  return frameHeader(0, static_cast<uint32_t>(segment.size())) +
         std::string(reinterpret_cast<const char*>(segment.data()),
                     segment.size() * sizeof(uint64_t));
}

// `count` rpc Bootstrap requests with fresh question ids from `firstQuestion`: legal messages,
// sent without ever reading an answer or finishing a question.
inline std::string bootstrapFlood(uint32_t count, uint32_t firstQuestion) {
  std::string bytes;
  for (uint32_t i = 0; i < count; ++i) {
    capnp::MallocMessageBuilder message(16);
    message.initRoot<capnp::rpc::Message>().initBootstrap().setQuestionId(firstQuestion + i);
    auto flat = capnp::messageToFlatArray(message);
    bytes.append(reinterpret_cast<const char*>(flat.asBytes().begin()), flat.asBytes().size());
  }
  return bytes;
}

}  // namespace airlock::testing::hostile

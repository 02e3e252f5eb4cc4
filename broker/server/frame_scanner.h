#pragma once
// Follows Cap'n Proto's stream framing in the bytes a peer sends, to learn each message's size
// from its segment table before Cap'n Proto does: capnp 0.9.2 allocates a message's whole
// announced size (up to its 64 MiB traversal limit) as soon as the table is in, then waits for
// the rest, so one half-sent frame pinned 48 MiB of airlockd per connection before the peer
// had even authenticated.
//
// Framing (capnp/serialize.h): a little-endian uint32 segment count minus one, one uint32 size
// in words per segment, zero padding to a whole word, then the segments.
//
// It also counts the peer's open questions: Cap'n Proto keeps each question's answer (its results
// message, capabilities and all) until the peer sends `Finish` for it, so a peer that never does
// holds broker memory per question for as long as its connection lasts. A question is a `Call` or
// `Bootstrap` message (rpc.capnp's Message union tag, bits [0, 16) of the root struct, which
// every Cap'n Proto builder places right after the root pointer); a message whose tag cannot be
// read there is counted as a question too, so that hiding a call cannot lower the count.
//
// Pure; any thread; one per stream.

#include <cstddef>
#include <cstdint>

namespace airlock::broker {

class FrameScanner {
 public:
  // Most segments a message may have: Cap'n Proto's own reader refuses more than 512.
  static constexpr uint64_t MAX_SEGMENTS = 512;

  struct Header {
    uint64_t segments = 0;
    uint64_t bytes = 0;  // all segments, as announced; header excluded
  };

  // Reads `n` more bytes of the stream. Stops at, and returns true for, the first message whose
  // header is complete and whose announced size is over `maxBytes` or whose segment count is
  // over MAX_SEGMENTS; `refused()` then describes it. Once it returns true it returns true for
  // ever (the stream must be ended).
  bool feed(const uint8_t* bytes, size_t n, uint64_t maxBytes);

  const Header& refused() const { return refused_; }
  uint64_t messagesSeen() const { return messages_; }  // headers completed and accepted
  uint64_t openQuestions() const { return openQuestions_; }  // asked, not yet finished

  // rpc.capnp's Message union tags that open and close a question.
  static constexpr uint16_t CALL_TAG = 2, FINISH_TAG = 4, BOOTSTRAP_TAG = 8;
  // Bytes of a message's first segment read to find its tag: the root pointer and, 8 bytes after
  // it, the root struct's first data word (where a root struct past it would be, the tag is
  // taken as unreadable).
  static constexpr size_t TAG_BYTES = 16;

 private:
  enum class Phase : uint8_t { COUNT, SIZES, BODY, REFUSED };
  void startHeader();
  void countQuestion();  // from the TAG_BYTES captured at the start of a message's body

  Phase phase_ = Phase::COUNT;
  uint8_t word_[4] = {};   // the little-endian uint32 being read
  uint8_t wordFill_ = 0;
  uint64_t segments_ = 0;
  uint64_t sizesLeft_ = 0;    // segment sizes still to read
  uint64_t paddingLeft_ = 0;  // bytes of padding after them
  uint64_t words_ = 0;        // the sizes read so far, summed
  uint64_t bodyLeft_ = 0;     // bytes of the current message's segments still to pass
  uint64_t messages_ = 0;
  uint8_t start_[TAG_BYTES] = {};  // the first bytes of the current message's body
  size_t startFill_ = 0;
  size_t startWanted_ = 0;   // at most TAG_BYTES
  bool tagPending_ = false;  // the current message's tag is not counted yet
  uint64_t openQuestions_ = 0;
  Header refused_;
};

}  // namespace airlock::broker

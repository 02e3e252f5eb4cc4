#include "broker/server/frame_scanner.h"

#include <cstdint>

namespace airlock::broker {

void FrameScanner::countQuestion() {
  // The root pointer: a struct pointer (low two bits 0) whose signed 30-bit word offset says
  // where the struct starts after it; its data section's first 16 bits are the union tag.
  uint64_t root = 0;
  for (size_t i = 0; i < 8 && i < startFill_; ++i) root |= static_cast<uint64_t>(start_[i]) << (8 * i);
  bool readable = startFill_ >= 8 && (root & 3) == 0;
  int32_t offsetWords = static_cast<int32_t>(static_cast<uint32_t>(root)) >> 2;
  uint16_t dataWords = static_cast<uint16_t>(root >> 32);
  uint16_t tag = 0;  // no data section: every data field, the tag included, is 0
  if (readable && dataWords > 0) {
    readable = offsetWords == 0 && startFill_ >= 10;
    if (readable) tag = static_cast<uint16_t>(start_[8] | start_[9] << 8);
  }
  if (!readable || tag == CALL_TAG || tag == BOOTSTRAP_TAG) {
    ++openQuestions_;
  } else if (tag == FINISH_TAG && openQuestions_ > 0) {
    --openQuestions_;
  }
}

void FrameScanner::startHeader() {
  phase_ = Phase::COUNT;
  wordFill_ = 0;
  segments_ = 0;
  words_ = 0;
}

bool FrameScanner::feed(const uint8_t* bytes, size_t n, uint64_t maxBytes) {
  size_t at = 0;
  while (phase_ != Phase::REFUSED) {
    if (phase_ == Phase::BODY) {
      uint64_t take = bodyLeft_ < n - at ? bodyLeft_ : n - at;
      if (tagPending_) {
        for (uint64_t i = 0; i < take && startFill_ < startWanted_; ++i) {
          start_[startFill_++] = bytes[at + i];
        }
        if (startFill_ == startWanted_) {
          countQuestion();
          tagPending_ = false;
        }
      }
      bodyLeft_ -= take;
      at += take;
      if (bodyLeft_ > 0) return false;  // the input ran out inside the body
      startHeader();
      continue;
    }
    if (phase_ == Phase::SIZES && sizesLeft_ == 0) {
      // Padding after the sizes (zeros, not checked: Cap'n Proto ignores them too).
      uint64_t take = paddingLeft_ < n - at ? paddingLeft_ : n - at;
      paddingLeft_ -= take;
      at += take;
      if (paddingLeft_ > 0) return false;
      uint64_t announced = words_ * 8;
      if (announced > maxBytes) {
        refused_ = Header{segments_, announced};
        phase_ = Phase::REFUSED;
        break;
      }
      ++messages_;
      bodyLeft_ = announced;
      startFill_ = 0;
      startWanted_ = announced < TAG_BYTES ? announced : TAG_BYTES;
      tagPending_ = true;
      phase_ = Phase::BODY;
      continue;
    }
    if (at == n) return false;
    word_[wordFill_++] = bytes[at++];
    if (wordFill_ < 4) continue;
    wordFill_ = 0;
    uint64_t value = static_cast<uint64_t>(word_[0]) | static_cast<uint64_t>(word_[1]) << 8 |
                     static_cast<uint64_t>(word_[2]) << 16 | static_cast<uint64_t>(word_[3]) << 24;
    if (phase_ == Phase::COUNT) {
      segments_ = value + 1;
      if (segments_ > MAX_SEGMENTS) {
        refused_ = Header{segments_, 0};
        phase_ = Phase::REFUSED;
        break;
      }
      sizesLeft_ = segments_;
      // The table is 4 bytes of count and 4 per segment, padded to a whole 8-byte word.
      paddingLeft_ = (4 + 4 * segments_) % 8 == 0 ? 0 : 4;
      phase_ = Phase::SIZES;
      continue;
    }
    words_ += value;  // at most 512 sizes of 2^32 - 1: no overflow in 64 bits
    --sizesLeft_;
    // Refuse as soon as the sum is over, without waiting for the rest of the table.
    if (words_ * 8 > maxBytes) {
      refused_ = Header{segments_, words_ * 8};
      phase_ = Phase::REFUSED;
      break;
    }
  }
  return true;
}

}  // namespace airlock::broker

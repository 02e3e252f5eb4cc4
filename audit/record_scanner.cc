#include "audit/record_scanner.h"

#include <array>
#include <cstring>

#include "audit/chain.h"

namespace airlock::audit {

namespace _ {

// Keys of one object, to refuse a repeated one (nlohmann keeps one value, so re-encoding a line
// with a repeated key changes it). Objects with more keys than this go the slow way.
constexpr size_t MAX_KEYS_PER_OBJECT = 32;

// The largest uint64 in decimal: longer or larger integers parse as floats and re-encode
// differently.
constexpr std::string_view UINT64_MAX_DECIMAL = "18446744073709551615";

// Bytes that stand for themselves inside a canonical string: printable ASCII but '"' and '\\'.
constexpr auto PLAIN_STRING_BYTE = []() {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x80; ++c) table[c] = c != '"' && c != '\\';
  return table;
}();

class Scanner {
 public:
  explicit Scanner(std::string_view text) : at_(text.data()), end_(text.data() + text.size()) {}

  kj::Maybe<ScannedRecord> record() {
    ScannedRecord found;
    bool haveSeq = false, havePrev = false, haveEvent = false;
    if (!object(1, [&](std::string_view key) -> bool {
          if (key == "seq") {
            haveSeq = true;
            return integer(found.seq);
          } else if (key == "prev") {
            havePrev = true;
            return string(found.prev);
          } else if (key == "event") {
            haveEvent = true;
            return string(found.event);
          }
          return value(1);
        })) {
      return nullptr;
    }
    if (at_ != end_ || !haveSeq || !havePrev || !haveEvent) return nullptr;
    if (!isLowerHex(found.prev, HASH_HEX_CHARS)) return nullptr;
    return found;
  }

 private:
  bool next(char expected) {
    if (at_ == end_ || *at_ != expected) return false;
    ++at_;
    return true;
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - at_) < word.size() ||
        memcmp(at_, word.data(), word.size()) != 0) {
      return false;
    }
    at_ += word.size();
    return true;
  }

  bool value(int depth) {
    if (at_ == end_) return false;
    std::string_view ignored;
    uint64_t number;
    switch (*at_) {
      case '"': return string(ignored);
      case '{': return object(depth + 1, [&](std::string_view) { return value(depth + 1); });
      case '[': return array(depth + 1);
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return integer(number);
    }
  }

  // `member(key)` reads the value after "key": and returns whether it was canonical.
  template <typename Member>
  bool object(int depth, Member&& member) {
    if (depth > MAX_SCAN_DEPTH || !next('{')) return false;
    if (next('}')) return true;
    std::string_view keys[MAX_KEYS_PER_OBJECT];
    size_t count = 0;
    do {
      std::string_view key;
      if (count == MAX_KEYS_PER_OBJECT || !string(key) || !next(':')) return false;
      for (size_t i = 0; i < count; ++i) {
        // Canonical strings have one spelling each, so equal values have equal bytes.
        if (keys[i] == key) return false;
      }
      keys[count++] = key;
      if (!member(key)) return false;
    } while (next(','));
    return next('}');
  }

  bool array(int depth) {
    if (depth > MAX_SCAN_DEPTH || !next('[')) return false;
    if (next(']')) return true;
    do {
      if (!value(depth)) return false;
    } while (next(','));
    return next(']');
  }

  bool integer(uint64_t& out) {
    const char* start = at_;
    while (at_ != end_ && *at_ >= '0' && *at_ <= '9') ++at_;
    std::string_view digits(start, at_ - start);
    if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) return false;
    if (at_ != end_ && (*at_ == '.' || *at_ == 'e' || *at_ == 'E')) return false;
    if (digits.size() > UINT64_MAX_DECIMAL.size() ||
        (digits.size() == UINT64_MAX_DECIMAL.size() && digits > UINT64_MAX_DECIMAL)) {
      return false;
    }
    out = 0;
    for (char c : digits) out = out * 10 + static_cast<uint64_t>(c - '0');
    return true;
  }

  // `raw` is the bytes between the quotes.
  bool string(std::string_view& raw) {
    if (!next('"')) return false;
    const char* start = at_;
    while (at_ != end_) {
      // Most bytes are plain ASCII: skip them with one table lookup each.
      while (at_ != end_ && PLAIN_STRING_BYTE[static_cast<unsigned char>(*at_)]) ++at_;
      if (at_ == end_) break;
      unsigned char c = static_cast<unsigned char>(*at_);
      if (c == '"') {
        raw = std::string_view(start, at_ - start);
        ++at_;
        return true;
      } else if (c == '\\') {
        if (!escape()) return false;
      } else if (c < 0x20) {
        return false;  // the serialiser escapes every control character
      } else if (c < 0x80) {
        ++at_;
      } else if (!utf8Sequence()) {
        return false;
      }
    }
    return false;
  }

  // One escape as the serialiser writes it: the short forms, and \u00xx (lower-case hex) only
  // for control characters without one.
  bool escape() {
    if (end_ - at_ < 2) return false;
    char kind = at_[1];
    if (kind == '"' || kind == '\\' || kind == 'b' || kind == 'f' || kind == 'n' || kind == 'r' ||
        kind == 't') {
      at_ += 2;
      return true;
    }
    if (kind != 'u' || end_ - at_ < 6 || at_[2] != '0' || at_[3] != '0') return false;
    auto hexDigit = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int high = hexDigit(at_[4]), low = hexDigit(at_[5]);
    if (high < 0 || low < 0 || high > 1) return false;
    int code = high * 16 + low;
    if (code == 0x08 || code == 0x09 || code == 0x0a || code == 0x0c || code == 0x0d) return false;
    at_ += 6;
    return true;
  }

  // One well-formed UTF-8 sequence of 2-4 bytes (RFC 3629: no overlong forms, no surrogates,
  // nothing past U+10FFFF), as the JSON parser accepts and the serialiser writes unchanged.
  bool utf8Sequence() {
    auto byte = [this](ptrdiff_t i) { return static_cast<unsigned char>(at_[i]); };
    auto continuation = [&](ptrdiff_t i, unsigned char low, unsigned char high) {
      return end_ - at_ > i && byte(i) >= low && byte(i) <= high;
    };
    unsigned char lead = byte(0);
    int length;
    bool ok;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2, ok = continuation(1, 0x80, 0xbf);
    } else if (lead == 0xe0) {
      length = 3, ok = continuation(1, 0xa0, 0xbf) && continuation(2, 0x80, 0xbf);
    } else if ((lead >= 0xe1 && lead <= 0xec) || lead == 0xee || lead == 0xef) {
      length = 3, ok = continuation(1, 0x80, 0xbf) && continuation(2, 0x80, 0xbf);
    } else if (lead == 0xed) {
      length = 3, ok = continuation(1, 0x80, 0x9f) && continuation(2, 0x80, 0xbf);
    } else if (lead == 0xf0) {
      length = 4, ok = continuation(1, 0x90, 0xbf) && continuation(2, 0x80, 0xbf) &&
                       continuation(3, 0x80, 0xbf);
    } else if (lead >= 0xf1 && lead <= 0xf3) {
      length = 4, ok = continuation(1, 0x80, 0xbf) && continuation(2, 0x80, 0xbf) &&
                       continuation(3, 0x80, 0xbf);
    } else if (lead == 0xf4) {
      length = 4, ok = continuation(1, 0x80, 0x8f) && continuation(2, 0x80, 0xbf) &&
                       continuation(3, 0x80, 0xbf);
    } else {
      return false;
    }
    if (!ok) return false;
    at_ += length;
    return true;
  }

  const char* at_;
  const char* const end_;
};

}  // namespace _

kj::Maybe<ScannedRecord> scanCanonicalRecord(std::string_view line) {
  return _::Scanner(line).record();
}

}  // namespace airlock::audit

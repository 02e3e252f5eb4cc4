#include "broker/policy/model/printable.h"

namespace airlock::policy {

std::string printable(std::string_view text, size_t maxBytes) {
  static constexpr char HEX[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < text.size() && i < maxBytes; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += HEX[c >> 4];
      out += HEX[c & 0xf];
    }
  }
  if (text.size() > maxBytes) out += "...";
  return out;
}

}  // namespace airlock::policy

#include "audit/html_escape.h"

#include <cstdio>

namespace airlock::audit {

std::string htmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: {
        auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && byte != '\t' && byte != '\n') || byte == 0x7f) {
          char hex[5];
          snprintf(hex, sizeof(hex), "\\x%02x", byte);
          out += hex;
        } else {
          out += c;
        }
      }
    }
  }
  return out;
}

}  // namespace airlock::audit

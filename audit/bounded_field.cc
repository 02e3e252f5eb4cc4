#include "audit/bounded_field.h"

#include "audit/chain.h"

namespace airlock::audit {

bool isBounded(std::string_view text, size_t maxBytes) { return text.size() <= maxBytes; }

std::string boundedField(std::string_view text, size_t maxBytes) {
  if (isBounded(text, maxBytes)) return std::string(text);
  std::string out(text.substr(0, maxBytes));
  out += " [cut: ";
  out += std::to_string(text.size());
  out += " bytes, blake2b-256 ";
  out += view(lineHash(text));
  out += ']';
  return out;
}

}  // namespace airlock::audit

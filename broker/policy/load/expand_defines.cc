#include "broker/policy/load/expand_defines.h"

#include "broker/policy/load/policy_loader.h"

namespace airlock::policy {

bool isDefineName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(alpha || (digit && i > 0))) return false;
  }
  return true;
}

namespace _ {

std::optional<std::string> expandDefines(std::string_view text,
                                         const std::map<std::string, std::string>& defines,
                                         std::string& error) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = text.find("${", pos);
    if (start == std::string_view::npos) {
      out += text.substr(pos);
      break;
    }
    out += text.substr(pos, start - pos);
    size_t end = text.find('}', start + 2);
    if (end == std::string_view::npos) {
      error = "unterminated \"${\"";
      return std::nullopt;
    }
    std::string name(text.substr(start + 2, end - start - 2));
    if (!isDefineName(name)) {
      error = "invalid variable name \"" + name + "\" in ${...} (expected [A-Za-z_][A-Za-z0-9_]*)";
      return std::nullopt;
    }
    auto found = defines.find(name);
    if (found == defines.end()) {
      error = "undefined variable ${" + name + "} (define it with --define " + name + "=VALUE)";
      return std::nullopt;
    }
    const std::string& value = found->second;
    if (value.find('*') != std::string::npos || value.find("${") != std::string::npos) {
      error = "variable ${" + name + "} = \"" + value +
              "\" contains '*' or '${'; a define must be a literal path";
      return std::nullopt;
    }
    out += value;
    pos = end + 1;
  }
  return out;
}

}  // namespace _
}  // namespace airlock::policy

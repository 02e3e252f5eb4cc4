#include "cli/grant_arg.h"

#include <algorithm>
#include <array>
#include <utility>

namespace {

constexpr std::array<std::pair<const char*, airlock::GrantMode>, 5> MODE_NAMES = {{
    {"read", airlock::GrantMode::READ},
    {"write", airlock::GrantMode::WRITE},
    {"create", airlock::GrantMode::CREATE},
    {"truncate", airlock::GrantMode::TRUNCATE},
    {"append", airlock::GrantMode::APPEND},
}};

std::optional<airlock::GrantMode> modeNamed(const std::string& name) {
  for (auto& [full, mode] : MODE_NAMES) {
    if (name == full || (name.size() == 1 && name[0] == full[0])) return mode;
  }
  return std::nullopt;
}

}  // namespace

std::optional<airlock::Grant> parseGrantArg(const std::string& text, std::string& error) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    error = "--grant \"" + text + "\": expected PATH:MODES, e.g. /srv/docs/a.xml:read";
    return std::nullopt;
  }
  airlock::Grant grant{text.substr(0, colon), {}};
  std::string modes = text.substr(colon + 1);
  size_t start = 0;
  while (start <= modes.size()) {
    size_t end = std::min(modes.find(',', start), modes.size());
    std::string name = modes.substr(start, end - start);
    auto mode = modeNamed(name);
    if (!mode) {
      error = "--grant \"" + text + "\": unknown mode \"" + name +
              "\" (read, write, create, truncate, append, or r, w, c, t, a)";
      return std::nullopt;
    }
    if (std::find(grant.modes.begin(), grant.modes.end(), *mode) != grant.modes.end()) {
      error = "--grant \"" + text + "\": mode \"" + name + "\" given twice";
      return std::nullopt;
    }
    grant.modes.push_back(*mode);
    start = end + 1;
  }
  return grant;
}

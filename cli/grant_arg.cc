#include "cli/grant_arg.h"

#include <fcntl.h>

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

// PATH:MODES; `option` and `whole` name the argument in errors.
std::optional<airlock::Grant> parsePathAndModes(const std::string& text, const char* option,
                                                const std::string& whole, std::string& error) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    error = std::string(option) + " \"" + whole + "\": expected " +
            (std::string(option) == "--grant" ? "PATH:MODES, e.g. /srv/docs/a.xml:read"
                                              : "FD:PATH:MODES, e.g. 3:/srv/docs/a.xml:read");
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
      error = std::string(option) + " \"" + whole + "\": unknown mode \"" + name +
              "\" (read, write, create, truncate, append, or r, w, c, t, a)";
      return std::nullopt;
    }
    if (std::find(grant.modes.begin(), grant.modes.end(), *mode) != grant.modes.end()) {
      error = std::string(option) + " \"" + whole + "\": mode \"" + name + "\" given twice";
      return std::nullopt;
    }
    grant.modes.push_back(*mode);
    start = end + 1;
  }
  return grant;
}

}  // namespace

std::optional<airlock::Grant> parseGrantArg(const std::string& text, std::string& error) {
  return parsePathAndModes(text, "--grant", text, error);
}

std::optional<airlock::Grant> parseGrantFdArg(const std::string& text, std::string& error) {
  size_t colon = text.find(':');
  std::string digits = text.substr(0, colon);
  bool numeric = !digits.empty() && digits.size() <= 9 &&
                 digits.find_first_not_of("0123456789") == std::string::npos;
  if (colon == std::string::npos || !numeric) {
    error = "--grant-fd \"" + text + "\": expected FD:PATH:MODES, e.g. 3:/srv/docs/a.xml:read";
    return std::nullopt;
  }
  int fd = std::stoi(digits);
  if (fcntl(fd, F_GETFD) < 0) {
    error = "--grant-fd \"" + text + "\": descriptor " + digits +
            " is not open in this command (open it with the shell: 3<FILE)";
    return std::nullopt;
  }
  auto grant = parsePathAndModes(text.substr(colon + 1), "--grant-fd", text, error);
  if (grant) grant->fd = fd;
  return grant;
}

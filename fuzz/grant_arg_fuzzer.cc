// libFuzzer target for `airlock call --grant PATH:MODES` and `--grant-fd FD:PATH:MODES`
// (cli/grant_arg.h), the parsers of grant text a user types. Input: the argument's text.
// Invariants of --grant:
//   - no crash and no hang on any text;
//   - a refusal always says why (a non-empty error naming --grant);
//   - an accepted grant has a non-empty path that is the text before its last ':', one to five
//     modes and none twice, and its modes written back in full names parse to the same grant.
// Of --grant-fd, on the same text: a refusal names --grant-fd; an accepted grant's descriptor is
// open in this process (0, 1 and 2 are) and written in the text's digits before the first ':',
// and the rest of the text parses as --grant to the same path and modes.

#include <fcntl.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "cli/grant_arg.h"
#include "fuzz/fuzz_check.h"

namespace {

const char* fullName(airlock::GrantMode mode) {
  switch (mode) {
    case airlock::GrantMode::READ: return "read";
    case airlock::GrantMode::WRITE: return "write";
    case airlock::GrantMode::CREATE: return "create";
    case airlock::GrantMode::TRUNCATE: return "truncate";
    case airlock::GrantMode::APPEND: return "append";
  }
  return "?";
}

void checkGrantFd(const std::string& text) {
  using airlock::fuzz::fuzzCheck;
  std::string error;
  auto grant = parseGrantFdArg(text, error);
  if (!grant) {
    fuzzCheck(error.find("--grant-fd") != std::string::npos, "a refusal names --grant-fd", text);
    return;
  }
  size_t colon = text.find(':');
  std::string digits = colon == std::string::npos ? "" : text.substr(0, colon);
  bool numeric = !digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos;
  fuzzCheck(numeric && std::stoul(digits) == static_cast<unsigned long>(grant->fd),
            "the descriptor is the digits before the first :", text);
  fuzzCheck(fcntl(grant->fd, F_GETFD) >= 0, "an accepted descriptor is open", text);
  std::string pathError;
  auto rest = parseGrantArg(text.substr(colon + 1), pathError);
  fuzzCheck(rest && rest->path == grant->path && rest->modes == grant->modes,
            "the rest parses as --grant to the same grant", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using airlock::fuzz::fuzzCheck;
  std::string text(reinterpret_cast<const char*>(data), size);
  checkGrantFd(text);
  std::string error;
  auto grant = parseGrantArg(text, error);
  if (!grant) {
    fuzzCheck(error.find("--grant") != std::string::npos, "a refusal names --grant", text);
    return 0;
  }
  fuzzCheck(!grant->path.empty(), "an accepted grant has a path", text);
  fuzzCheck(grant->path == text.substr(0, text.rfind(':')), "the path is the text before the last :",
            text);
  fuzzCheck(!grant->modes.empty() && grant->modes.size() <= 5, "one to five modes", text);
  auto sorted = grant->modes;
  std::sort(sorted.begin(), sorted.end());
  fuzzCheck(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(), "no mode twice",
            text);
  std::string written = grant->path + ":";
  for (size_t i = 0; i < grant->modes.size(); ++i) {
    written += std::string(i == 0 ? "" : ",") + fullName(grant->modes[i]);
  }
  std::string again;
  auto reparsed = parseGrantArg(written, again);
  fuzzCheck(reparsed && reparsed->path == grant->path && reparsed->modes == grant->modes,
            "written back in full names it parses to the same grant", written);
  return 0;
}

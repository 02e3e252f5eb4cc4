// libFuzzer target for `airlock call --grant PATH:MODES` (cli/grant_arg.h), the one parser of
// grant text a user types. Input: the argument's text. Invariants:
//   - no crash and no hang on any text;
//   - a refusal always says why (a non-empty error naming --grant);
//   - an accepted grant has a non-empty path that is the text before its last ':', one to five
//     modes and none twice, and its modes written back in full names parse to the same grant.

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using airlock::fuzz::fuzzCheck;
  std::string text(reinterpret_cast<const char*>(data), size);
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

#include "fuzz/path_pattern_reference.h"

#include <string_view>
#include <vector>

namespace airlock::fuzz {

namespace {

// "/a/b" -> {"a", "b"}
std::vector<std::string_view> segmentsOf(std::string_view absolute) {
  std::vector<std::string_view> out;
  size_t start = 1;
  while (start <= absolute.size()) {
    size_t end = absolute.find('/', start);
    if (end == std::string_view::npos) end = absolute.size();
    out.push_back(absolute.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// matched[i][j]: glob[i..] matches text[j..].
bool globMatches(std::string_view glob, std::string_view text) {
  std::vector<std::vector<char>> matched(glob.size() + 1, std::vector<char>(text.size() + 1, 0));
  matched[glob.size()][text.size()] = 1;
  for (size_t i = glob.size(); i-- > 0;) {
    for (size_t j = text.size() + 1; j-- > 0;) {
      if (glob[i] == '*') {
        matched[i][j] = matched[i + 1][j] || (j < text.size() && matched[i][j + 1]);
      } else {
        matched[i][j] = j < text.size() && glob[i] == text[j] && matched[i + 1][j + 1];
      }
    }
  }
  return matched[0][0];
}

}  // namespace

bool referencePatternMatches(std::string_view patternText, std::string_view path) {
  std::vector<std::string_view> pattern = segmentsOf(patternText);
  std::vector<std::string_view> segments = segmentsOf(path);
  // matched[i][j]: pattern[i..] matches segments[j..].
  std::vector<std::vector<char>> matched(pattern.size() + 1,
                                         std::vector<char>(segments.size() + 1, 0));
  matched[pattern.size()][segments.size()] = 1;
  for (size_t i = pattern.size(); i-- > 0;) {
    for (size_t j = segments.size() + 1; j-- > 0;) {
      if (pattern[i] == "**") {
        matched[i][j] = matched[i + 1][j] || (j < segments.size() && matched[i][j + 1]);
      } else {
        matched[i][j] = j < segments.size() && globMatches(pattern[i], segments[j]) &&
                        matched[i + 1][j + 1];
      }
    }
  }
  return matched[0][0];
}

}  // namespace airlock::fuzz

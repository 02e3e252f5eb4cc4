#include "cli/suggest_diff.h"

#include <toml++/toml.h>

#include <algorithm>
#include <sstream>
#include <utility>
#include <vector>

#include "broker/policy/load/learn_section.h"

namespace airlock::cli {

namespace _ {
namespace {

std::vector<std::string> linesOf(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line + "\n");
  if (!text.empty() && text.back() != '\n') lines.back().pop_back();  // kept as it is
  return lines;
}

// The 1-based line ranges [first, last] of [unit]'s learn-mode keys, each from its key to the
// end of its value (an array may span lines), sorted.
std::vector<std::pair<size_t, size_t>> learnKeyLines(const toml::table& root) {
  std::vector<std::pair<size_t, size_t>> ranges;
  const toml::table* unit = root.get_as<toml::table>("unit");
  if (unit == nullptr) return ranges;
  for (auto&& [key, value] : *unit) {
    auto known = std::find(std::begin(policy::_::LEARN_KEYS), std::end(policy::_::LEARN_KEYS),
                           key.str());
    if (known == std::end(policy::_::LEARN_KEYS)) continue;
    ranges.emplace_back(key.source().begin.line, value.source().end.line);
  }
  std::sort(ranges.begin(), ranges.end());
  return ranges;
}

}  // namespace
}  // namespace _

std::string suggestionDiff(const std::string& file, const std::string& text,
                           const std::string& appended, std::string& error) {
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    error = file + ": not TOML: " + std::string(e.description());
    return {};
  }
  std::vector<std::string> lines = _::linesOf(text);
  std::vector<std::pair<size_t, size_t>> removed = _::learnKeyLines(root);
  std::vector<std::string> added = _::linesOf(appended);
  if (removed.empty() && added.empty()) return {};

  std::string out = "--- " + file + "\n+++ " + file + "\n";
  size_t removedSoFar = 0;
  for (auto [first, last] : removed) {
    size_t count = last - first + 1;
    out += "@@ -" + std::to_string(first) + "," + std::to_string(count) + " +" +
           std::to_string(first - 1 - removedSoFar) + ",0 @@\n";
    for (size_t i = first; i <= last && i <= lines.size(); ++i) out += "-" + lines[i - 1];
    removedSoFar += count;
  }
  if (!added.empty()) {
    // The file's last line needs its newline before anything follows it.
    if (!lines.empty() && lines.back().back() != '\n') {
      out += "@@ -" + std::to_string(lines.size()) + " +" +
             std::to_string(lines.size() - removedSoFar) + "," + std::to_string(added.size() + 1) +
             " @@\n-" + lines.back() + "\n\\ No newline at end of file\n+" + lines.back() + "\n";
    } else {
      out += "@@ -" + std::to_string(lines.size()) + ",0 +" +
             std::to_string(lines.size() - removedSoFar + 1) + "," +
             std::to_string(added.size()) + " @@\n";
    }
    for (auto& line : added) out += "+" + line;
  }
  return out;
}

}  // namespace airlock::cli

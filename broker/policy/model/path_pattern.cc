#include "broker/policy/model/path_pattern.h"

namespace airlock::policy {

namespace _ {

// An exact pattern outranks every glob; a glob's score is at most MAX_PATH_BYTES.
constexpr int EXACT_SPECIFICITY = 1 << 20;

// `*` matches any run of characters (the text never contains '/'). The classic greedy match with
// one backtrack point: linear in practice, no allocation, no regex.
bool globMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0;
  size_t starP = std::string_view::npos, starT = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      starP = p++;
      starT = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (starP != std::string_view::npos) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool isDotSegment(std::string_view segment) { return segment == "." || segment == ".."; }

// Characters that other glob dialects give a meaning. v1 refuses them rather than treating them
// as literals, so "/srv/*.{png,jpg}" is an error instead of a rule that silently never matches.
constexpr std::string_view RESERVED_PATTERN_CHARS = "?[]{}\\";

}  // namespace _

std::optional<PathPattern> PathPattern::parse(std::string_view text, std::string& error) {
  error.clear();
  if (text.empty()) {
    error = "empty path pattern";
  } else if (text[0] != '/') {
    error = "path pattern must be absolute (start with '/')";
  } else if (text.size() > MAX_PATH_BYTES) {
    error = "path pattern longer than " + std::to_string(MAX_PATH_BYTES) + " bytes";
  } else if (text.find('\0') != std::string_view::npos) {
    error = "path pattern contains a NUL byte";
  } else if (text == "/") {
    error = "path pattern \"/\" names no file; use \"/**\" for everything";
  }
  if (!error.empty()) return std::nullopt;

  PathPattern out;
  out.text_ = std::string(text);
  size_t pos = 1;
  while (pos <= text.size()) {
    size_t end = text.find('/', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view segment = text.substr(pos, end - pos);
    pos = end + 1;
    if (segment.empty()) {
      error = "empty path segment (\"//\" or a trailing '/')";
    } else if (_::isDotSegment(segment)) {
      error = "'.' and '..' segments are not allowed";
    } else if (segment != "**" && segment.find("**") != std::string_view::npos) {
      error = "'**' must be a whole path segment";
    } else if (segment.find_first_of(_::RESERVED_PATTERN_CHARS) != std::string_view::npos) {
      error = "characters ? [ ] { } \\ are reserved in path patterns (v1 supports only * and **)";
    }
    if (!error.empty()) return std::nullopt;
    SegmentKind kind = segment == "**"                               ? SegmentKind::ANY_SEGMENTS
                       : segment.find('*') != std::string_view::npos ? SegmentKind::GLOB
                                                                     : SegmentKind::LITERAL;
    out.segments_.push_back(Segment{kind, std::string(segment)});
  }

  out.exact_ = true;
  for (const Segment& s : out.segments_) out.exact_ = out.exact_ && s.kind == SegmentKind::LITERAL;
  // The root is the literal directory prefix: every literal segment before the first wildcard,
  // minus the file name itself for an exact pattern.
  size_t literalCount = 0;
  while (literalCount < out.segments_.size() &&
         out.segments_[literalCount].kind == SegmentKind::LITERAL) {
    ++literalCount;
  }
  if (out.exact_) --literalCount;
  for (size_t i = 0; i < literalCount; ++i) out.root_ += '/' + out.segments_[i].text;
  if (out.root_.empty()) out.root_ = "/";
  return out;
}

bool PathPattern::matches(std::string_view path) const {
  if (segments_.empty() || path.empty() || path[0] != '/') return false;
  constexpr size_t NONE = std::string_view::npos;
  // Walk the path's segments by offset (no allocation). `**` is matched with the same greedy
  // single-backtrack scheme as `*` in globMatch, one segment at a time.
  auto nextSegment = [path](size_t pos) {
    size_t end = path.find('/', pos);
    return end == NONE ? path.size() + 1 : end + 1;
  };
  size_t i = 0, pos = 1;
  size_t starI = NONE, starPos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    std::string_view segment = path.substr(pos, (end == NONE ? path.size() : end) - pos);
    // Defence in depth: validated paths never contain these, and no pattern may match them.
    if (segment.empty() || _::isDotSegment(segment)) return false;
    if (i < segments_.size() && segments_[i].kind == SegmentKind::ANY_SEGMENTS) {
      starI = i++;
      starPos = pos;
      continue;
    }
    if (i < segments_.size()) {
      const Segment& s = segments_[i];
      bool same =
          s.kind == SegmentKind::LITERAL ? s.text == segment : _::globMatch(s.text, segment);
      if (same) {
        ++i;
        pos = nextSegment(pos);
        continue;
      }
    }
    if (starI == NONE) return false;
    i = starI + 1;
    starPos = nextSegment(starPos);
    pos = starPos;
  }
  while (i < segments_.size() && segments_[i].kind == SegmentKind::ANY_SEGMENTS) ++i;
  return i == segments_.size();
}

int PathPattern::specificity() const {
  if (exact_) return _::EXACT_SPECIFICITY;
  return static_cast<int>(text_.find('*'));
}

bool PathPattern::matchesEverything() const {
  return segments_.size() == 1 && segments_[0].kind == SegmentKind::ANY_SEGMENTS;
}

Refusal validateRequestPath(std::string_view path) {
  if (path.empty()) return "empty path";
  if (path.size() > MAX_PATH_BYTES) {
    return Refusal::because("path longer than " + std::to_string(MAX_PATH_BYTES) + " bytes");
  }
  if (path.find('\0') != std::string_view::npos) return "path contains a NUL byte";
  if (path[0] != '/') return "path is not absolute";
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(pos, end - pos);
    if (segment.empty()) return "path has an empty segment (\"//\" or a trailing '/')";
    if (_::isDotSegment(segment)) return "path has a '.' or '..' segment";
    pos = end + 1;
  }
  return {};
}

}  // namespace airlock::policy

#pragma once
// A path pattern from a policy file: an absolute path whose segments may use `*` (any run of
// characters within one segment) and `**` (a whole segment only: zero or more segments). No
// pattern can match a `.` or `..` segment, because requests containing them are refused before
// matching (see validateRequestPath).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/policy/model/refusal.h"

namespace airlock::policy {

// Longest request path or pattern accepted, in bytes: Linux PATH_MAX (including the NUL the
// kernel counts), so nothing we accept can fail in openat2 for length alone.
inline constexpr size_t MAX_PATH_BYTES = 4096;

class PathPattern {
 public:
  PathPattern() = default;

  // Parses `text`; on error returns nullopt and sets `error` to a one-line reason
  // (e.g. "'**' must be a whole path segment").
  static std::optional<PathPattern> parse(std::string_view text, std::string& error);

  bool matches(std::string_view validatedPath) const;
  // `validatedPath` must have passed validateRequestPath.

  const std::string& text() const { return text_; }

  const std::string& root() const { return root_; }
  // The longest directory prefix without wildcards: the directory the broker pre-opens and
  // resolves requests beneath. For "/srv/images/**" it is "/srv/images"; for an exact file
  // pattern "/etc/app.conf" it is "/etc".

  int specificity() const;
  // Larger is more specific: an exact path beats any glob; among globs, more literal characters
  // before the first wildcard wins.

  bool isExact() const { return exact_; }  // no wildcard at all
  bool matchesEverything() const;          // "/**": a dangerous allowance (dangerous.h)

 private:
  enum class SegmentKind : uint8_t { LITERAL, GLOB, ANY_SEGMENTS };
  struct Segment {
    SegmentKind kind = SegmentKind::LITERAL;
    std::string text;
  };

  std::string text_;
  std::string root_;
  std::vector<Segment> segments_;
  bool exact_ = false;
};

// Checks a path a worker asked for: passes if it is acceptable, otherwise refuses saying why: not absolute, empty, longer than PATH_MAX, a NUL byte, an empty, `.` or
// `..` segment.
Refusal validateRequestPath(std::string_view path);

}  // namespace airlock::policy

#pragma once
// What a check of a request or a policy value comes to: it passes, or it refuses and says why.
// A type rather than a string that is empty when all is well, so a refusal cannot be taken for a
// value or dropped unread (every check returning one is [[nodiscard]] through the type). Pure
// data; any thread.

#include <kj/debug.h>

#include <string>
#include <utility>

namespace airlock::policy {

class [[nodiscard]] Refusal {
 public:
  Refusal() = default;  // passes
  // Refuses, for a literal reason: `return "empty path";` in a check. Implicit only from a
  // literal, which the reader can see is not empty.
  Refusal(const char* why) : Refusal(std::string(why)) {}  // NOLINT: implicit, for `return "..."`
  // Refuses, for a computed reason (one line, never empty). Explicit, so that no string that
  // might be empty (a check's "" meaning "fine") silently becomes a refusal that asserts.
  [[nodiscard]] static Refusal because(std::string why) { return Refusal(std::move(why)); }

  bool refuses() const { return !why_.empty(); }
  explicit operator bool() const { return refuses(); }
  const std::string& why() const { return why_; }  // "" when it passes

 private:
  explicit Refusal(std::string why) : why_(std::move(why)) {
    KJ_IREQUIRE(!why_.empty(), "a refusal says why");
  }

  std::string why_;
};

}  // namespace airlock::policy

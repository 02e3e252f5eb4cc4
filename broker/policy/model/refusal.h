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
  // Refuses, for `why` (one line, never empty): `return "empty path";` in a check.
  Refusal(std::string why) : why_(std::move(why)) {  // NOLINT: implicit, for `return "..."`
    KJ_IREQUIRE(!why_.empty(), "a refusal says why");
  }
  Refusal(const char* why) : Refusal(std::string(why)) {}  // NOLINT: as above

  bool refuses() const { return !why_.empty(); }
  explicit operator bool() const { return refuses(); }
  const std::string& why() const { return why_; }  // "" when it passes

 private:
  std::string why_;
};

}  // namespace airlock::policy

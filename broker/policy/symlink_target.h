#pragma once
// Where a symlink a worker asks for would point: its target is checked as text, before the link
// exists, so that every link the broker makes stays beneath the root of the rule that allowed it.
// Pure.

#include <string>
#include <string_view>

namespace airlock::policy {

std::string refuseSymlinkTarget(std::string_view root, std::string_view linkPath,
                                std::string_view target);
// Returns "" if `target`, resolved lexically from the directory of `linkPath`, stays at or
// beneath `root` at every step; otherwise why not: empty, absolute, a NUL byte, longer than
// MAX_PATH_BYTES, a `..` that climbs above `root`, or a `..` after a name (which, were the name
// itself a link, would climb from where that link leads: "L/.." with L -> ".." is two levels up). `linkPath` must have passed
// validateRequestPath and lie beneath `root` (the deciding rule's root). A link made this way
// cannot hand a later reader (a host process following it) a file outside the grant; the broker
// itself never follows symlinks (RESOLVE_NO_SYMLINKS).

}  // namespace airlock::policy

#pragma once
// Where a symlink a worker asks for would point: its target is checked as text, before the link
// exists, so that every link the broker makes stays beneath the root of the rule that allowed it.
// The same check, at a link's new depth, decides whether an fs.rename may move it there
// (broker/caps/moved_links.h). Pure.

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/policy/model/refusal.h"

namespace airlock::policy {

Refusal refuseSymlinkTarget(std::string_view root, std::string_view linkPath,
                                std::string_view target);
// Passes if `target`, resolved lexically from the directory of `linkPath`, stays at or
// beneath `root` at every step; otherwise refuses saying why: empty, absolute, a NUL byte, longer than
// MAX_PATH_BYTES, a `..` that climbs above `root`, or a `..` after a name (which, were the name
// itself a link, would climb from where that link leads: "L/.." with L -> ".." is two levels up). `linkPath` must have passed
// validateRequestPath and lie beneath `root` (the deciding rule's root). A link made this way
// cannot hand a later reader (a host process following it) a file outside the grant; the broker
// itself never follows symlinks (RESOLVE_NO_SYMLINKS).

long depthBeneath(std::string_view root, std::string_view path);
// How many directories lie between `root` and the directory holding `path`'s last component: 0
// for a name directly in `root`, 1 for a name in a directory of `root`, -1 for `root` itself. A
// target with only leading `..` stays beneath `root` iff it has at most this many of them.
// `path` must have passed validateRequestPath and be `root` or beneath it.

// Whose root a refusal names: the rule that lets the worker make the link, or move it.
enum class LinkChange : uint8_t { MAKE, MOVE };

Refusal refuseSymlinkTargetAt(std::string_view root, long depth, std::string_view target,
                                  LinkChange change);
// refuseSymlinkTarget for a link whose directory is `depth` directories beneath `root` (as
// depthBeneath counts), wherever that is: refuseSymlinkTarget(root, path, target) is
// refuseSymlinkTargetAt(root, depthBeneath(root, path), target, LinkChange::MAKE). Moving a link
// to a smaller depth is what can make a target that passed here climb above `root`.

}  // namespace airlock::policy

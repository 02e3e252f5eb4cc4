#pragma once
// What an fs.rename would make the symlinks it moves point at. A relative target whose only `..`
// are leading ones (the only kind fs.symlink makes, policy/model/symlink_target.h) reaches the directory
// that many levels above the link: moving the link, or a directory above it, closer to the root
// can make a target that stayed beneath the root climb out of it. So before an allowed rename
// acts, the broker checks every link it would move at its depth after the move: the link itself
// if the source is one, or every link beneath a source directory moved to a smaller depth. A
// directory moved to the same or a greater depth needs no walk: each `..` then reaches the same
// or a deeper directory than before, so nothing beneath it can come to point anywhere new above it.
//
// Broker-side, event-loop thread. Every brokered request runs on that thread in one sitting, so
// no brokered fs.symlink can add a link between this check and the rename; links made by others
// (host programs, with their own access to the tree) are not covered (docs/policy.md).

#include <string>

#include "broker/caps/at_beneath.h"
#include "broker/policy/model/refusal.h"

namespace airlock::broker {

// Most entries (of any type) looked at beneath a directory a rename moves closer to the root. The
// worker chooses how big a tree it asks to move, and the walk runs on the event loop every call
// shares: fs.list's bound again, a few milliseconds of getdents and readlinkat. A directory
// holding more is refused, never moved unchecked.
inline constexpr size_t MAX_MOVED_ENTRIES = 10000;

struct MovedLinks {
  AtOutcome outcome;    // a syscall failed while looking (an escape if escapeRefused()): no move
  policy::Refusal refusal;  // a link would point out of the root, or the walk passed its bound
  bool clear() const { return outcome.ok() && !refusal; }
};

MovedLinks checkMovedLinks(const ParentDir& from, const std::string& root,
                           const std::string& fromPath, const std::string& toPath);
// `from` is the rename's source opened beneath `root`'s fd (ok()); `fromPath` and `toPath` are
// the request's paths (validateRequestPath passed, both `root` or beneath it). A symlink source
// must pass policy::refuseSymlinkTargetAt at the depth of `toPath`. A directory source moved to
// a smaller depth is walked without following anything (openat2 as at_beneath.h, readlinkat of
// each link), at most MAX_MOVED_ENTRIES entries, and every link must pass at its depth after the
// move. The first link that fails is named in `refusal`, with its path after the move.

}  // namespace airlock::broker

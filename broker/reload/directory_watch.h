#pragma once
// `airlockd --watch-policies`: notices when the policy directory or the client keys directory
// changes and says so once the change is complete; airlockd then reloads exactly as on SIGHUP
// (Reloader::reload), so a set that does not check is refused whole and recorded the same way.
//
// Two ways such a directory changes, both covered by one inotify watch on the directory itself:
// - A plain directory, edited in place or by rename: an entry the loader reads (a name ending in
//   one of the directory's suffixes, not starting with `.`) is created, closed after writing,
//   renamed, removed or re-linked.
// - A Kubernetes ConfigMap or Secret volume: every file is a symlink through `..data`, itself a
//   symlink to a timestamped directory (`..2026_01_02_03_04_05.123`). kubelet writes a new
//   timestamped directory completely, then renames a new `..data` over the old one (rename(2):
//   atomic), then removes the old directory. Only the rename of `..data` counts; the new
//   directory while it is being written, the temporary link and the old directory's removal
//   (all `..` names) never do, and nothing inside them is watched. So what is read is always the
//   whole set `..data` names.
// The change is complete once the directories have been quiet for QUIET_PERIOD and no entry that
// was written to is still open for writing (a half-written file is waited for, not read); changes
// close together make one reload. Event-loop thread only.

#include <kj/async-unix.h>
#include <kj/io.h>
#include <kj/function.h>
#include <kj/timer.h>

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace airlock::broker {

inline constexpr kj::Duration QUIET_PERIOD = 200 * kj::MILLISECONDS;

struct WatchedDirectory {
  std::string path;
  std::vector<std::string> suffixes;  // the entries the loader reads: ".toml"; ".pub", ".key"
};

class DirectoryWatch {
 public:
  // Watches every directory of `dirs`. Throws (naming the directory and the reason) if one
  // cannot be watched.
  DirectoryWatch(std::vector<WatchedDirectory> dirs, kj::UnixEventPort& events, kj::Timer& timer);
  KJ_DISALLOW_COPY(DirectoryWatch);

  // Calls `onChange` after each complete change, with the entry that started it
  // ("DIR/..data", "DIR/NAME.toml"), for as long as the promise is kept.
  kj::Promise<void> run(kj::Function<void(const std::string& changed)> onChange);

 private:
  kj::Promise<void> loop();
  kj::Promise<void> nextChange();
  kj::Promise<void> settle();
  // Reads every pending event (the observer is edge-triggered: the queue must be emptied before
  // waiting again). True if one of them is a change the loader would see.
  bool readEvents();
  bool counts(const WatchedDirectory& dir, std::string_view name) const;
  void rewatchLost();

  std::vector<WatchedDirectory> dirs_;
  std::vector<int> watches_;  // per directory; -1 once the directory itself went away
  kj::AutoCloseFd fd_;  // the inotify instance
  kj::UnixEventPort::FdObserver observer_;
  kj::Timer& timer_;
  std::set<std::pair<size_t, std::string>> writing_;  // (directory, entry) modified, not closed
  std::string firstChange_;
  kj::Function<void(const std::string&)> onChange_;
};

}  // namespace airlock::broker

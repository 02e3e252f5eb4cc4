#include "broker/caps/moved_links.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <memory>
#include <string_view>

#include "broker/policy/model/path_pattern.h"
#include "broker/policy/model/printable.h"
#include "broker/policy/model/symlink_target.h"

namespace airlock::broker {

namespace _ {
namespace {

// A path quoted in a refusal: escaped and cut, as decide.cc quotes request text.
constexpr size_t MAX_QUOTED_BYTES = 256;

// One directory beneath the moved one still to look in: its path below the moved directory and
// the depth (as policy::depthBeneath counts) of its entries after the move.
struct Pending {
  std::string path;
  long depth = 0;
};

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

// `target` of the link `name` in `dirFd`. A target of PATH_MAX bytes or more comes back cut to
// MAX_PATH_BYTES, which refuseSymlinkTargetAt refuses for its length.
AtOutcome readLink(int dirFd, const char* name, std::string& target) {
  char buffer[policy::MAX_PATH_BYTES];
  ssize_t length = readlinkat(dirFd, name, buffer, sizeof(buffer));
  if (length < 0) return AtOutcome::failed("readlinkat", errno);
  target.assign(buffer, static_cast<size_t>(length));
  return {};
}

// Refuses the link `target`, at `newPath` after the move with its directory `depth` beneath
// `root`, if it would point out of `root`.
policy::Refusal refuseMovedLink(const std::string& root, long depth, const std::string& newPath,
                                const std::string& target) {
  policy::Refusal refused =
      policy::refuseSymlinkTargetAt(root, depth, target, policy::LinkChange::MOVE);
  if (!refused) return refused;
  return policy::Refusal::because(
      "a symlink the rename moves would point out of the grant: at " +
      policy::printable(newPath, MAX_QUOTED_BYTES) + ", " +
      policy::printable(refused.why(), MAX_QUOTED_BYTES));
}

// S_IF* of `entry`; DT_UNKNOWN (some file systems) asks fstatat, never following.
AtOutcome typeOf(int dirFd, const dirent& entry, mode_t& type) {
  switch (entry.d_type) {
    case DT_DIR: type = S_IFDIR; return {};
    case DT_LNK: type = S_IFLNK; return {};
    case DT_UNKNOWN: {
      struct stat st;
      if (fstatat(dirFd, entry.d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return AtOutcome::failed("fstatat in the moved directory", errno);
      }
      type = st.st_mode & S_IFMT;
      return {};
    }
    default: type = S_IFREG; return {};  // files, devices, FIFOs, sockets: nothing to follow
  }
}

// Looks at every entry of `dir` (beneath `movedFd`): a link is checked, a directory queued.
// `seen` counts entries across the whole walk.
MovedLinks lookIn(int movedFd, const Pending& dir, const std::string& root,
                  const std::string& toPath, std::deque<Pending>& pending, size_t& seen) {
  MovedLinks found;
  kj::AutoCloseFd opened;
  found.outcome = openDirectoryBeneath(movedFd, dir.path, opened);
  if (!found.outcome.ok()) return found;
  std::unique_ptr<DIR, DirCloser> stream(fdopendir(opened.get()));
  if (!stream) {
    found.outcome = AtOutcome::failed("fdopendir in the moved directory", errno);
    return found;
  }
  opened.release();  // the DIR stream owns it from here
  int dirFd = dirfd(stream.get());
  std::string prefix = dir.path == "." ? "" : dir.path + "/";
  const dirent* entry;
  for (errno = 0; (entry = readdir(stream.get())) != nullptr; errno = 0) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (++seen > MAX_MOVED_ENTRIES) {
      found.refusal = policy::Refusal::because(
          "the directory holds more than " + std::to_string(MAX_MOVED_ENTRIES) +
          " entries, the most the broker checks for symlinks before moving a directory closer "
          "to the root");
      return found;
    }
    mode_t type = 0;
    found.outcome = typeOf(dirFd, *entry, type);
    if (!found.outcome.ok()) return found;
    if (type == S_IFDIR) pending.push_back(Pending{prefix + std::string(name), dir.depth + 1});
    if (type != S_IFLNK) continue;
    std::string target;
    found.outcome = readLink(dirFd, entry->d_name, target);
    if (!found.outcome.ok()) return found;
    found.refusal = refuseMovedLink(root, dir.depth, toPath + "/" + prefix + std::string(name),
                                    target);
    if (found.refusal) return found;
  }
  if (errno != 0) found.outcome = AtOutcome::failed("readdir in the moved directory", errno);
  return found;
}

// Every link beneath the directory `from` names, breadth first, one directory open at a time.
MovedLinks walkMovedDirectory(const ParentDir& from, const std::string& root,
                              const std::string& toPath) {
  MovedLinks found;
  kj::AutoCloseFd moved;
  found.outcome = openDirectoryBeneath(from.fd.get(), from.name, moved);
  if (!found.outcome.ok()) return found;
  std::deque<Pending> pending{Pending{".", policy::depthBeneath(root, toPath) + 1}};
  size_t seen = 0;
  while (!pending.empty() && found.clear()) {
    Pending dir = std::move(pending.front());
    pending.pop_front();
    found = lookIn(moved.get(), dir, root, toPath, pending, seen);
  }
  return found;
}

}  // namespace
}  // namespace _

MovedLinks checkMovedLinks(const ParentDir& from, const std::string& root,
                           const std::string& fromPath, const std::string& toPath) {
  MovedLinks found;
  struct stat source;
  if (fstatat(from.fd.get(), from.name.c_str(), &source, AT_SYMLINK_NOFOLLOW) != 0) {
    found.outcome = AtOutcome::failed("fstatat of the source", errno);
    return found;
  }
  if (S_ISLNK(source.st_mode)) {
    std::string target;
    found.outcome = _::readLink(from.fd.get(), from.name.c_str(), target);
    if (found.outcome.ok()) {
      found.refusal =
          _::refuseMovedLink(root, policy::depthBeneath(root, toPath), toPath, target);
    }
    return found;
  }
  bool closerToTheRoot = policy::depthBeneath(root, toPath) < policy::depthBeneath(root, fromPath);
  if (S_ISDIR(source.st_mode) && closerToTheRoot) return _::walkMovedDirectory(from, root, toPath);
  return found;
}

}  // namespace airlock::broker

#include "broker/reload/directory_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <kj/debug.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

namespace airlock::broker {

namespace _ {
namespace {

// What changes an entry as the loader sees it. IN_MODIFY only tracks a file being written (the
// change is its IN_CLOSE_WRITE); IN_ATTRIB catches a mode change that makes a key unreadable.
constexpr uint32_t ENTRY_EVENTS =
    IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB;
constexpr uint32_t SELF_EVENTS = IN_DELETE_SELF | IN_MOVE_SELF;

// The name kubelet's atomic writer renames over to swap a ConfigMap or Secret volume's contents.
constexpr std::string_view CONFIGMAP_DATA = "..data";

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

kj::AutoCloseFd openInotify() {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    KJ_FAIL_REQUIRE("--watch-policies: cannot start inotify", strerror(errno));
  }
  return kj::AutoCloseFd(fd);
}

int addWatch(int fd, const std::string& dir) {
  return inotify_add_watch(fd, dir.c_str(), ENTRY_EVENTS | SELF_EVENTS | IN_ONLYDIR);
}

}  // namespace
}  // namespace _

DirectoryWatch::DirectoryWatch(std::vector<WatchedDirectory> dirs, kj::UnixEventPort& events,
                               kj::Timer& timer)
    : dirs_(kj::mv(dirs)),
      fd_(_::openInotify()),
      observer_(events, fd_.get(), kj::UnixEventPort::FdObserver::OBSERVE_READ),
      timer_(timer) {
  for (auto& dir : dirs_) {
    int wd = _::addWatch(fd_.get(), dir.path);
    if (wd < 0) {
      KJ_FAIL_REQUIRE("--watch-policies: cannot watch the directory", dir.path, strerror(errno));
    }
    watches_.push_back(wd);
  }
}

kj::Promise<void> DirectoryWatch::run(kj::Function<void(const std::string&)> onChange) {
  onChange_ = kj::mv(onChange);
  return loop();
}

kj::Promise<void> DirectoryWatch::loop() {
  return nextChange().then([this]() {
    std::string changed = kj::mv(firstChange_);
    firstChange_.clear();
    rewatchLost();
    onChange_(changed);
    return loop();
  });
}

kj::Promise<void> DirectoryWatch::nextChange() {
  // Events that came while nothing waited count too: an edge nobody waited for is not repeated.
  if (readEvents()) return settle();
  return observer_.whenBecomesReadable().then([this]() { return nextChange(); });
}

kj::Promise<void> DirectoryWatch::settle() {
  return observer_.whenBecomesReadable()
      .then([]() { return true; })
      .exclusiveJoin(timer_.afterDelay(QUIET_PERIOD).then([]() { return false; }))
      .then([this](bool readable) -> kj::Promise<void> {
        bool changedAgain = readEvents();
        if (readable || changedAgain || !writing_.empty()) return settle();
        return kj::READY_NOW;
      });
}

bool DirectoryWatch::counts(const WatchedDirectory& dir, std::string_view name) const {
  if (name == _::CONFIGMAP_DATA) return true;
  if (name.empty() || name[0] == '.') return false;  // the loaders skip these too
  for (auto& suffix : dir.suffixes) {
    if (_::endsWith(name, suffix)) return true;
  }
  return false;
}

bool DirectoryWatch::readEvents() {
  bool changed = false;
  auto note = [&](std::string what) {
    changed = true;
    if (firstChange_.empty()) firstChange_ = kj::mv(what);
  };
  alignas(inotify_event) char buffer[16384];
  for (;;) {
    ssize_t n = read(fd_.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: the queue is empty
    for (char* at = buffer; at < buffer + n;) {
      auto* event = reinterpret_cast<inotify_event*>(at);
      at += sizeof(inotify_event) + event->len;
      if (event->mask & IN_Q_OVERFLOW) {
        note("(inotify queue overflow)");
        continue;
      }
      for (size_t i = 0; i < dirs_.size(); ++i) {
        if (watches_[i] != event->wd) continue;
        if (event->mask & (_::SELF_EVENTS | IN_IGNORED)) {
          watches_[i] = -1;
          note(dirs_[i].path);
          continue;
        }
        std::string name = event->len > 0 ? std::string(event->name) : std::string();
        if (!counts(dirs_[i], name)) continue;
        auto entry = std::make_pair(i, name);
        if (event->mask & IN_MODIFY) {
          writing_.insert(entry);  // not a change yet: it is one when it is closed
        } else {
          if (event->mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM)) writing_.erase(entry);
          note(dirs_[i].path + "/" + name);
        }
      }
    }
  }
  return changed;
}

// A watched directory that was removed or renamed: watch whatever is at its path now (a
// directory put back in its place), or say that changes there are no longer seen.
void DirectoryWatch::rewatchLost() {
  for (size_t i = 0; i < dirs_.size(); ++i) {
    if (watches_[i] >= 0) continue;
    watches_[i] = _::addWatch(fd_.get(), dirs_[i].path);
    if (watches_[i] < 0) {
      spdlog::error("--watch-policies: {} is gone ({}); its changes are no longer seen: "
                    "restart airlockd once a directory is back at that path",
                    dirs_[i].path, strerror(errno));
    }
  }
}

}  // namespace airlock::broker

#include "audit/hash_ahead_reader.h"

#include <kj/debug.h>
#include <sched.h>

#include <system_error>

namespace airlock::audit {

namespace {

// The CPUs this process may run on: the affinity mask, not the online count, because taskset
// and cpuset cgroups shrink it, and a hashing thread sharing the walker's only CPU just adds
// hand-offs to the same work. A mask that cannot be read counts as one CPU: hash inline.
int usableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return CPU_COUNT(&set);
}

}  // namespace

void HashAheadReader::Chunk::clear() {
  bytes.clear();
  ends.clear();
  hashes.clear();
  endsPartial = false;
  last = false;
  readErrno = 0;
  failure = nullptr;
}

std::string_view HashAheadReader::Chunk::line(size_t i) const {
  size_t begin = i == 0 ? 0 : ends[i - 1];
  return std::string_view(bytes.data() + begin, ends[i] - begin);
}

HashAheadReader::HashAheadReader(kj::Own<LineReader> reader, LineHashing hashing,
                                 size_t chunkBytes)
    : reader_(kj::mv(reader)), chunkBytes_(chunkBytes) {
  if (hashing != LineHashing::AHEAD || usableCpus() < 2) return;
  try {
    thread_ = std::thread([this]() { run(); });
  } catch (const std::system_error&) {
    // No thread to be had (RLIMIT_NPROC, memory): hash inline; the same verdicts, only slower.
  }
}

HashAheadReader::~HashAheadReader() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  drained_.notify_one();
  thread_.join();
}

void HashAheadReader::run() {
  for (;;) {
    Chunk chunk;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      KJ_IF_MAYBE(spare, spare_) {
        chunk = kj::mv(*spare);
        spare_ = nullptr;
      }
    }
    chunk.clear();
    try {
      fill(chunk);
    } catch (...) {
      // An exception must not end a std::thread (std::terminate): the caller rethrows it after
      // the lines before it, where the inline path would have thrown.
      chunk.failure = std::current_exception();
      chunk.last = true;
    }
    bool last = chunk.last;
    if (!handOver(kj::mv(chunk)) || last) return;
  }
}

void HashAheadReader::fill(Chunk& chunk) {
  std::string_view line;
  bool whole = true;
  while (chunk.bytes.size() < chunkBytes_) {
    if (!reader_->next(line, whole)) {
      chunk.last = true;
      chunk.readErrno = reader_->readErrno();
      break;
    }
    chunk.bytes.insert(chunk.bytes.end(), line.begin(), line.end());
    chunk.ends.push_back(chunk.bytes.size());
    chunk.endsPartial = !whole;  // only a file's last line can lack its '\n'
  }
  size_t wholeLines = chunk.ends.size() - (chunk.endsPartial ? 1 : 0);
  size_t share = (chunk.ends.size() * shareSteps_ + SHARE_STEPS - 1) / SHARE_STEPS;
  for (size_t i = 0; i < std::min(share, wholeLines); ++i) {
    chunk.hashes.push_back(lineHash(chunk.line(i)));
  }
}

bool HashAheadReader::handOver(Chunk chunk) {
  std::unique_lock<std::mutex> lock(mutex_);
  bool threadWaits = waiting_ != nullptr;
  drained_.wait(lock, [this]() { return stop_ || waiting_ == nullptr; });
  if (stop_) return false;
  // Whoever waited is the faster side: give it more of the hashing.
  if (threadWaits && shareSteps_ < SHARE_STEPS) {
    ++shareSteps_;
  } else if (!threadWaits && callerWaited_ && shareSteps_ > 0) {
    --shareSteps_;
  }
  callerWaited_ = false;
  waiting_ = kj::mv(chunk);
  lock.unlock();
  filled_.notify_one();
  return true;
}

void HashAheadReader::takeNext() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (waiting_ == nullptr) callerWaited_ = true;
  // The thread always hands over a last chunk before it returns, unless stop_ was set, which
  // only the destructor (this thread) does: the wait ends.
  filled_.wait(lock, [this]() { return waiting_ != nullptr; });
  Chunk next = kj::mv(KJ_ASSERT_NONNULL(waiting_));
  waiting_ = nullptr;
  if (spare_ == nullptr) spare_ = kj::mv(reading_);
  lock.unlock();
  drained_.notify_one();
  reading_ = kj::mv(next);
  nextLine_ = 0;
}

bool HashAheadReader::next(std::string_view& line, bool& whole) {
  if (!hashesAhead()) {
    if (!reader_->next(line, whole)) {
      readErrno_ = reader_->readErrno();
      whole_ = false;
      return false;
    }
  } else {
    while (nextLine_ == reading_.ends.size()) {
      if (reading_.last) {
        if (reading_.failure != nullptr) std::rethrow_exception(reading_.failure);
        readErrno_ = reading_.readErrno;
        whole_ = false;
        return false;
      }
      takeNext();
    }
    line = reading_.line(nextLine_);
    whole = !(reading_.endsPartial && nextLine_ + 1 == reading_.ends.size());
    ++nextLine_;
  }
  line_ = line;
  whole_ = whole;
  return true;
}

HashHex HashAheadReader::hash() const {
  KJ_REQUIRE(whole_, "hash() is of a whole line next() returned");
  if (hashesAhead() && nextLine_ - 1 < reading_.hashes.size()) {
    return reading_.hashes[nextLine_ - 1];
  }
  return lineHash(line_);
}

}  // namespace airlock::audit

#pragma once
// The verifier's line source: LineReader's lines, each with its lineHash, the hashing done on a
// second thread one chunk ahead of the caller.
//
// Why: BLAKE2b is over half of `airlock audit verify`'s time (docs/PERFORMANCE.md), and the walk
// only needs line i's hash once it reaches line i+1, so on a machine with a second CPU the
// hashing overlaps the walk. The thread reads the file through a LineReader, copies a chunk's
// worth of whole lines (CHUNK_BYTES) into a buffer it owns, hashes lines of it, and hands the
// chunk over a mutex; the caller reads it while the next one is filled. At most three chunks
// exist at once (being filled, waiting, being read), so memory stays ~3 MiB however large the
// log. The hashes are of exactly the bytes the caller is given: one read of the file, so a log
// still being appended to cannot show the two threads different bytes.
//
// Hashing every line on the thread leaves it the slower of the two (reading, copying and hashing
// against the walk's scan), so the thread hashes only a leading share of each chunk's lines and
// hash() computes the rest on the caller's thread when asked. The share moves a step per chunk:
// up when the thread had to wait to hand a chunk over, down when the caller had to wait for one
// (a busy second CPU slows one side only). It changes only who computes a hash, never which
// bytes are hashed or how: every hash() is lineHash() of the line next() returned.
//
// LineHashing::INLINE (also the fallback when the process may run on one CPU only, or no thread
// can be started) hands LineReader's lines straight through and hashes on the caller's thread,
// when hash() is asked, as the verifier always did.
//
// Threading: one caller thread uses the object; the hashing thread touches only the LineReader
// it was given, shareSteps_ and the chunk it is filling, and exchanges chunks under mutex_. The
// destructor stops and joins the thread on every path (end of file, early exit, exception).

#include <kj/common.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/chain.h"
#include "audit/line_reader.h"

namespace airlock::audit {

enum class LineHashing {
  AHEAD,   // on a second thread, a chunk ahead (INLINE when that cannot help or cannot start)
  INLINE,  // on the caller's thread, line by line
};

class HashAheadReader {
 public:
  static constexpr size_t CHUNK_BYTES = 1 << 20;  // LineReader's buffer: a few hundred hand-offs

  // Takes the reader; nothing else may use it. `chunkBytes` is for tests (small chunks make many
  // hand-offs); a line longer than it is a chunk of its own.
  HashAheadReader(kj::Own<LineReader> reader, LineHashing hashing,
                  size_t chunkBytes = CHUNK_BYTES);
  ~HashAheadReader();  // stops the hashing thread and joins it

  HashAheadReader(const HashAheadReader&) = delete;
  HashAheadReader& operator=(const HashAheadReader&) = delete;

  // As LineReader::next: the next line, valid until the following call; `whole` false for a
  // last line without '\n'; false at the end or on a read error (then readErrno() is set). An
  // exception on the hashing thread (out of memory) is rethrown here, after the lines before it.
  bool next(std::string_view& line, bool& whole);
  int readErrno() const { return readErrno_; }

  // lineHash() of the whole line next() last returned: computed ahead, or now on the caller's
  // thread. KJ_REQUIRE: that line is whole.
  HashHex hash() const;

  // Whether a hashing thread runs (AHEAD asked and possible); for tests and measurements.
  bool hashesAhead() const { return thread_.joinable(); }

 private:
  struct Chunk {
    std::vector<char> bytes;      // the lines back to back, without their '\n'
    std::vector<size_t> ends;     // line i is bytes[ends[i - 1], ends[i]) (from 0 for i = 0)
    std::vector<HashHex> hashes;  // lineHash of the first hashes.size() lines, all whole
    bool endsPartial = false;     // the last line has no '\n' (then it is the file's last)
    bool last = false;            // no chunk follows this one
    int readErrno = 0;            // when last: LineReader::readErrno()
    std::exception_ptr failure;   // when last: what the hashing thread threw, if anything

    void clear();
    std::string_view line(size_t i) const;
  };

  void run();                  // the hashing thread
  void fill(Chunk& chunk);     // reads the next chunk's worth of lines and hashes its share
  bool handOver(Chunk chunk);  // false when the destructor asked the thread to stop
  void takeNext();             // waits for the next chunk; recycles the one read

  kj::Own<LineReader> reader_;  // the caller's with INLINE, the hashing thread's with AHEAD
  const size_t chunkBytes_;

  // The caller's side.
  Chunk reading_;              // with AHEAD: the chunk next() hands lines out of
  size_t nextLine_ = 0;        // index in reading_ of the line next() returns next
  std::string_view line_;      // what next() last returned
  bool whole_ = false;
  int readErrno_ = 0;

  // The hashing thread's side: it hashes the first shareSteps_ / SHARE_STEPS of a chunk's lines.
  static constexpr unsigned SHARE_STEPS = 32;
  unsigned shareSteps_ = SHARE_STEPS;

  // Between the two threads, under mutex_. One waiting chunk: with the one being filled and the
  // one being read, three in all.
  std::mutex mutex_;
  std::condition_variable filled_;   // a chunk was handed over
  std::condition_variable drained_;  // a chunk was taken, or stop_ was set
  kj::Maybe<Chunk> waiting_;         // filled, not yet taken
  kj::Maybe<Chunk> spare_;           // read, for the thread to refill (keeps its capacity)
  bool callerWaited_ = false;        // takeNext() found no chunk waiting since the last hand-over
  bool stop_ = false;

  std::thread thread_;  // last: started once everything above is initialised
};

}  // namespace airlock::audit

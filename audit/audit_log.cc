#include "audit/audit_log.h"

#include "audit/anchor_delivery.h"
#include "audit/group_commit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kj/debug.h>
#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "audit/chain.h"
#include "audit/json_fields.h"
#include "audit/record_line.h"

namespace airlock::audit {

namespace _ {

// 128 random bits as 32 lower-case hex digits: unique among every file any broker writes.
std::string newSegmentId() {
  KJ_ASSERT(sodium_init() >= 0, "libsodium could not initialise");
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof(bytes));
  char hex[2 * sizeof(bytes) + 1];
  sodium_bin2hex(hex, sizeof(hex), bytes, sizeof(bytes));
  return hex;
}

class SystemWallClock final : public WallClock {
 public:
  int64_t nowMicrosSinceEpoch() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// The last line of a file of `size` bytes (without its '\n'), read backwards in chunks so that
// reopening a large log does not read all of it. Empty for an empty file.
std::string lastLine(int fd, uint64_t size, const std::string& path) {
  if (size == 0) return "";
  constexpr uint64_t CHUNK = 4096;
  std::string tail;
  uint64_t end = size;
  while (true) {
    uint64_t start = end > CHUNK ? end - CHUNK : 0;
    std::string chunk(end - start, '\0');
    ssize_t n;
    KJ_SYSCALL(n = pread(fd, chunk.data(), chunk.size(), start), path);
    KJ_REQUIRE(static_cast<uint64_t>(n) == chunk.size(), "short read of audit log", path);
    tail.insert(0, chunk);
    // `tail` ends with the file's final '\n'; the line starts after the newline before it.
    if (tail.size() >= 2) {
      auto newline = tail.rfind('\n', tail.size() - 2);
      if (newline != std::string::npos) {
        return tail.substr(newline + 1, tail.size() - newline - 2);
      }
    }
    if (start == 0) return tail.substr(0, tail.size() - 1);
    end = start;
  }
}

// The seq of the first record of a file of `size` bytes (the file's name once it is rotated).
// `fallback` for an empty file or a first line that is not a record.
uint64_t firstSequenceOf(int fd, uint64_t size, uint64_t fallback) {
  constexpr uint64_t CHUNK = 4096;
  std::string head;
  while (head.size() < size) {
    std::string chunk(std::min(CHUNK, size - head.size()), '\0');
    ssize_t n = pread(fd, chunk.data(), chunk.size(), head.size());
    if (n <= 0) return fallback;
    head.append(chunk.data(), n);
    auto newline = head.find('\n');
    if (newline != std::string::npos) {
      auto parsed = nlohmann::json::parse(head.substr(0, newline), nullptr, false);
      if (hasUnsignedField(parsed, "seq")) {
        return parsed["seq"].get<uint64_t>();
      }
      return fallback;
    }
  }
  return fallback;
}

struct Tail {
  uint64_t nextSequence = 1;
  std::string prevHash = ZERO_HASH_HEX;
  bool endsWithCheckpoint = true;  // nothing to cover
  bool endsClosed = false;         // its last line is a closing checkpoint
};

// Where an existing log leaves off: one past the last record's "seq", and that line's hash.
Tail tailOf(int fd, uint64_t size, const std::string& path) {
  Tail tail;
  if (size == 0) return tail;
  char lastByte = 0;
  KJ_SYSCALL(pread(fd, &lastByte, 1, size - 1), path);
  KJ_REQUIRE(lastByte == '\n',
             "audit log ends in a partial line; refusing to append to a damaged log", path);
  std::string line = lastLine(fd, size, path);
  auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  KJ_REQUIRE(hasUnsignedField(parsed, "seq"),
             "audit log's last line is not a record; refusing to append to a damaged log",
             path);
  tail.nextSequence = parsed["seq"].get<uint64_t>() + 1;
  tail.prevHash = lineHashHex(line);
  tail.endsWithCheckpoint = stringField(parsed, "event") == "checkpoint";
  tail.endsClosed = tail.endsWithCheckpoint && trueField(parsed, "closing");
  return tail;
}

// Makes a rename in the directory of `path` durable. Best effort: logged if it fails, since the
// records themselves are already synced in both files.
void syncDirectoryOf(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    KJ_LOG(ERROR, "cannot fsync the audit log's directory after rotating", dir, strerror(errno));
  }
  if (fd >= 0) ::close(fd);
}

uint64_t fileSize(int fd, const std::string& path) {
  struct stat st;
  KJ_SYSCALL(fstat(fd, &st), path);
  return st.st_size;
}

kj::AutoCloseFd openForAppend(const std::string& path, int extraFlags) {
  // O_NONBLOCK: a FIFO named as the log must not hold start-up until someone reads it; it is
  // refused below like any other file that is not a regular one.
  int fd = ::open(path.c_str(), extraFlags | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600);
  if (fd < 0) {
    int error = errno;
    KJ_FAIL_REQUIRE("cannot open audit file", path, strerror(error));
  }
  kj::AutoCloseFd owned(fd);
  struct stat st;
  KJ_SYSCALL(fstat(fd, &st), path);
  // A device, FIFO or socket would take records without keeping them (/dev/null), or never
  // sync them: the chain, its checkpoints and `audit verify` need a file.
  if (!S_ISREG(st.st_mode)) KJ_FAIL_REQUIRE("the audit log must be a regular file", path);
  int flags = fcntl(fd, F_GETFL);
  KJ_SYSCALL(fcntl(fd, F_SETFL, flags & ~O_NONBLOCK), path);
  return owned;
}

// One write of `line` + '\n' to an O_APPEND fd holding `length` bytes of whole lines. On a short
// write the partial line is truncated away; `truncated` is false only if that failed too.
bool writeWholeLine(int fd, const std::string& line, uint64_t& length, int& error,
                    bool& truncated) {
  std::string bytes = line + '\n';
  ssize_t written = ::write(fd, bytes.data(), bytes.size());
  error = errno;
  truncated = true;
  if (written == static_cast<ssize_t>(bytes.size())) {
    length += bytes.size();
    return true;
  }
  if (written >= 0) error = ENOSPC;  // a short regular-file write means the space ran out
  if (written > 0) truncated = ftruncate(fd, length) == 0;
  return false;
}

}  // namespace _

std::string rotatedPath(const std::string& path, uint64_t firstSequence) {
  char digits[32];
  snprintf(digits, sizeof(digits), ".%020llu", static_cast<unsigned long long>(firstSequence));
  return path + digits;
}

const WallClock& systemWallClock() {
  static const _::SystemWallClock clock;
  return clock;
}

kj::Own<AuditLog> AuditLog::open(const std::string& path, const WallClock& clock,
                                 AuditLogOptions options) {
  // Read access too: reopening reads the last line to continue the chain.
  auto fd = _::openForAppend(path, O_RDWR);
  uint64_t size = _::fileSize(fd.get(), path);
  _::Tail tail = _::tailOf(fd.get(), size, path);
  auto log = kj::heap<AuditLog>(kj::mv(fd), path, tail.nextSequence, clock, kj::mv(options),
                                tail.prevHash, size);
  // A tail left by a killed broker is covered by this run's first checkpoint.
  log->recordsSinceCheckpoint_ = tail.endsWithCheckpoint ? 0 : 1;
  log->endsClosed_ = tail.endsClosed;
  log->firstSequenceInFile_ = _::firstSequenceOf(log->fd_.get(), size, tail.nextSequence);
  return log;
}

AuditLog::AuditLog(kj::AutoCloseFd fd, std::string path, uint64_t nextSequence,
                   const WallClock& clock, AuditLogOptions options, std::string prevHash,
                   uint64_t fileLength)
    : fd_(kj::mv(fd)),
      path_(kj::mv(path)),
      nextSequence_(nextSequence),
      clock_(clock),
      syncMode_(options.sync),
      ownedKey_(kj::mv(options.key)),
      checkpointEveryRecords_(options.checkpointEveryRecords),
      prevHash_(prevHash.empty() ? ZERO_HASH_HEX : kj::mv(prevHash)),
      fileLength_(fileLength),
      anchorPath_(kj::mv(options.anchorPath)),
      rotateBytes_(options.rotateBytes),
      firstSequenceInFile_(nextSequence) {
  KJ_REQUIRE(checkpointEveryRecords_ > 0, "checkpoints need a positive record interval");
  KJ_IF_MAYBE(key, ownedKey_) { key_ = key->get(); }
  if (!anchorPath_.empty()) {
    KJ_REQUIRE(key_ != nullptr, "an anchor file holds checkpoints, which need a signing key");
    auto anchor = _::openForAppend(anchorPath_, O_WRONLY);
    anchorLength_ = _::fileSize(anchor.get(), anchorPath_);
    anchorFd_ = kj::mv(anchor);
  }
  if (!options.anchorCommand.empty()) {
    anchorDelivery_ = kj::heap<AnchorDelivery>(options.anchorCommand, options.anchorCommandDeadline);
  }
}

AuditLog::~AuditLog() noexcept(false) {
  if (!failed_) sync();
}

std::string AuditLog::formatTime(int64_t micros) {
  time_t seconds = static_cast<time_t>(micros / 1000000);
  // Every record is stamped, many a second, and the date and time of day change once a second:
  // gmtime_r and strftime run once per second per thread, the microseconds on every call.
  thread_local time_t cachedSeconds = -1;
  thread_local char cached[32];
  thread_local size_t cachedLength = 0;
  if (seconds != cachedSeconds || cachedLength == 0) {
    struct tm utc;
    gmtime_r(&seconds, &utc);
    cachedLength = strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &utc);
    cachedSeconds = seconds;
  }
  char fraction[16];
  snprintf(fraction, sizeof(fraction), ".%06dZ", static_cast<int>(micros % 1000000));
  std::string time;
  time.reserve(cachedLength + 8);
  time.append(cached, cachedLength);
  time.append(fraction);
  return time;
}

void AuditLog::fail(const char* what, int error) {
  failed_ = true;
  KJ_LOG(ERROR, "audit log failed; every further operation is refused until airlockd restarts",
         what, path_, strerror(error));
}

bool AuditLog::writeLine(const std::string& line) {
  int error = 0;
  bool truncated = true;
  if (!_::writeWholeLine(fd_.get(), line, fileLength_, error, truncated)) {
    KJ_LOG(ERROR, "audit append failed; refusing the operation it describes", path_,
           strerror(error), nextSequence_);
    if (!truncated) fail("ftruncate after a short write (the log may end in a partial line)", error);
    return false;
  }
  prevHash_ = lineHashHex(line);
  ++nextSequence_;
  if (observer_ != nullptr) observer_->lineWritten(line.size() + 1);  // and its newline
  endsClosed_ = false;  // writeCheckpoint() sets it again for a closing checkpoint
  dirty_ = true;
  if (committer_ != nullptr) committer_->markDirty();
  return true;
}

void AuditLog::startGroupCommitThread(std::chrono::microseconds window) {
  KJ_REQUIRE(syncMode_ == SyncMode::GROUP && committer_ == nullptr);
  int anchor = -1;
  KJ_IF_MAYBE(fd, anchorFd_) { anchor = fd->get(); }
  auto owned = kj::heap<GroupCommitThread>(fd_.get(), anchor, window, observer_);
  commitWindow_ = window;
  committer_ = owned.get();
  committerOwned_ = kj::mv(owned);
}

std::string AuditLog::formatRecord(const AuditRecord& r) const {
  std::string time = formatTime(clock_.nowMicrosSinceEpoch());
  bool learning = !r.unit.empty() &&
                  std::binary_search(learningUnits_.begin(), learningUnits_.end(), r.unit);
  if (fileLength_ == 0) {
    // The first record of a file (broker.start of a new log, audit.continued after a rotation)
    // names the file apart from every other, for log shippers that fingerprint a file by its
    // first bytes: two files of one log, or of two brokers, never begin alike.
    AuditRecord first = r;
    first.args[SEGMENT_ID_ARG] = _::newSegmentId();
    return formatRecordLine(RecordHeader{nextSequence_, time, prevHash_, learning}, first);
  }
  return formatRecordLine(RecordHeader{nextSequence_, time, prevHash_, learning}, r);
}

void AuditLog::setLearningUnits(std::vector<std::string> units) {
  std::sort(units.begin(), units.end());
  learningUnits_ = std::move(units);
}

bool AuditLog::rotationDue(size_t lineBytes) const {
  return rotateBytes_ > 0 && fileLength_ > 0 && fileLength_ + lineBytes + 1 > rotateBytes_;
}

bool AuditLog::rotate() {
  // Until the closing checkpoint is written nothing has changed: refusing this record is enough,
  // and the next record tries again.
  // A file that already ends closed (reopened after a clean stop) is not closed twice: a second
  // closing checkpoint would follow the first, where only a broker.start may.
  if (key_ != nullptr && !endsClosed_ && !writeCheckpoint(true)) return false;
  // From here on this file is closed for good: a failure can only stop the log.
  bool inBackground = committer_ != nullptr;
  committerOwned_ = nullptr;  // syncs what it has pending, then joins
  committer_ = nullptr;
  if (fdatasync(fd_.get()) != 0) {
    fail("fdatasync of the file being rotated", errno);
    return false;
  }
  std::string aside = rotatedPath(path_, firstSequenceInFile_);
  // RENAME_NOREPLACE: a file already there (an operator's copy) is never overwritten.
  if (renameat2(AT_FDCWD, path_.c_str(), AT_FDCWD, aside.c_str(), RENAME_NOREPLACE) != 0) {
    int error = errno;
    KJ_LOG(ERROR, "cannot rename the audit log aside to rotate it", path_, aside);
    fail("rename", error);
    return false;
  }
  _::syncDirectoryOf(path_);
  int fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    fail("creating the next audit file after rotating", errno);
    return false;
  }
  fd_ = kj::AutoCloseFd(fd);
  fileLength_ = 0;
  firstSequenceInFile_ = nextSequence_;
  if (inBackground) startGroupCommitThread(commitWindow_);

  AuditRecord continued;
  continued.event = std::string(CONTINUED_EVENT);
  continued.args["from_file"] = aside.substr(aside.rfind('/') + 1);
  continued.args["from_seq"] = nextSequence_ - 1;
  continued.args["from_hash"] = prevHash_;
  if (!writeLine(formatRecord(continued))) {
    fail("writing the first record of the next audit file", ENOSPC);
    return false;
  }
  ++recordsSinceCheckpoint_;
  if (syncMode_ == SyncMode::ALWAYS && !sync()) return false;
  return true;
}

bool AuditLog::append(const AuditRecord& r) {
  return appendRecord(r, Covering::COUNTS_TOWARD_CHECKPOINT);
}

int AuditLog::timedFdatasync(int fd) {
  if (observer_ == nullptr) return fdatasync(fd);
  auto start = std::chrono::steady_clock::now();
  int result = fdatasync(fd);
  int error = errno;
  observer_->synced(std::chrono::steady_clock::now() - start, result == 0);
  errno = error;
  return result;
}

bool AuditLog::appendRecord(const AuditRecord& r, Covering covering) {
  if (discarding_) return true;
  bool written = appendRecordOrRefuse(r, covering);
  if (observer_ != nullptr) {
    if (written) {
      observer_->recorded(r);
    } else {
      observer_->refused(r);
    }
  }
  return written;
}

bool AuditLog::appendRecordOrRefuse(const AuditRecord& r, Covering covering) {
  if (closed_) {
    KJ_LOG(ERROR, "a record after the log's closing checkpoint is refused", path_, r.event);
    return false;
  }
  if (committer_ != nullptr && committer_->failedErrno() != 0 && !failed_) {
    fail("fdatasync (group commit)", committer_->failedErrno());
  }
  if (failed_) {
    KJ_LOG(ERROR, "audit log is in the failed state; refusing the operation", path_, r.event);
    return false;
  }
  std::string line = formatRecord(r);
  if (rotationDue(line.size())) {
    if (!rotate()) return false;
    line = formatRecord(r);  // its seq and prev follow the new file's first record
  }
  uint64_t lengthBefore = fileLength_;
  std::string prevBefore = prevHash_;
  if (!writeLine(line)) return false;
  if (syncMode_ == SyncMode::ALWAYS && timedFdatasync(fd_.get()) != 0) {
    int error = errno;
    // Nothing was answered on this record's strength: take it back, so the log holds only
    // records whose operations happened.
    if (ftruncate(fd_.get(), lengthBefore) == 0) {
      fileLength_ = lengthBefore;
      prevHash_ = prevBefore;
      --nextSequence_;
    }
    fail("fdatasync", error);
    return false;
  }
  if (syncMode_ == SyncMode::ALWAYS) dirty_ = false;
  if (covering == Covering::COUNTS_TOWARD_CHECKPOINT) ++recordsSinceCheckpoint_;
  // A failed checkpoint is logged and retried at the next trigger; the record itself stands.
  if (key_ != nullptr && recordsSinceCheckpoint_ >= checkpointEveryRecords_) checkpoint();
  if (listener_ != nullptr) listener_->appended();
  return true;
}

bool AuditLog::checkpoint() {
  if (key_ == nullptr || recordsSinceCheckpoint_ == 0) return true;
  bool written = writeCheckpoint(false);
  if (listener_ != nullptr) listener_->appended();  // the checkpoint needs syncing too
  return written;
}

bool AuditLog::writeCheckpoint(bool closing) {
  if (failed_) return false;
  uint64_t covers = nextSequence_ - 1;
  std::string time = formatTime(clock_.nowMicrosSinceEpoch());
  nlohmann::ordered_json j;
  j["seq"] = nextSequence_;
  j["time"] = time;
  j["event"] = "checkpoint";
  j["prev"] = prevHash_;
  j["covers"] = covers;
  j["chain"] = prevHash_;
  j["closing"] = closing;
  j["key"] = key_->publicKey().hex();
  j["sig"] = key_->signHex(checkpointSigningInput(covers, prevHash_, time, closing));
  std::string line = j.dump();
  if (!writeLine(line)) return false;
  endsClosed_ = closing;
  recordsSinceCheckpoint_ = 0;
  KJ_IF_MAYBE(delivery, anchorDelivery_) { (*delivery)->submit(line); }
  bool anchored = appendToAnchor(line);
  if (syncMode_ == SyncMode::ALWAYS) return sync() && anchored;
  return anchored;
}

bool AuditLog::appendToAnchor(const std::string& line) {
  KJ_IF_MAYBE(anchor, anchorFd_) {
    int error = 0;
    bool truncated = true;
    if (!_::writeWholeLine(anchor->get(), line, anchorLength_, error, truncated)) {
      KJ_LOG(ERROR, "cannot append the checkpoint to the anchor file; the log has it, the anchor "
             "does not, and `airlock audit verify --anchor` will say so", anchorPath_,
             strerror(error), truncated ? "" : "and the partial line could not be truncated");
      return false;
    }
  }
  return true;
}

bool AuditLog::sync() {
  if (!dirty_ || failed_) return !failed_;
  if (timedFdatasync(fd_.get()) != 0) {
    fail("fdatasync", errno);
    return false;
  }
  KJ_IF_MAYBE(anchor, anchorFd_) {
    if (fdatasync(anchor->get()) != 0) {
      KJ_LOG(ERROR, "fdatasync of the anchor file failed", anchorPath_, strerror(errno));
    }
  }
  dirty_ = false;
  return true;
}

void AuditLog::close() {
  if (closed_) return;
  recordAnchorFailures();  // before the closing checkpoint, which must be the last line
  if (key_ != nullptr && !failed_) writeCheckpoint(true);
  closed_ = true;
  stopAnchorDelivery();
  // Stop the committer (it syncs what it has pending), then sync here so a failure is seen.
  committerOwned_ = nullptr;
  committer_ = nullptr;
  sync();
}

void AuditLog::discardEveryRecord(const UnsafeAuditOff&) {
  KJ_LOG(WARNING, "UNSAFE: this broker discards every audit record (a benchmark build)", path_);
  discarding_ = true;
}

kj::Maybe<int> AuditLog::anchorFailuresFd() const {
  KJ_IF_MAYBE(delivery, anchorDelivery_) { return (*delivery)->failuresReadyFd(); }
  return nullptr;
}

void AuditLog::recordAnchorFailures() {
  KJ_IF_MAYBE(delivery, anchorDelivery_) {
    for (auto& failure : (*delivery)->takeFailures()) {
      char outcome[160];
      describeAnchorOutcome(failure.outcome, (*delivery)->deadline(), outcome, sizeof(outcome));
      KJ_LOG(ERROR, "the anchor command did not take the checkpoints; they stay in the audit log "
             "and are handed to its next run (see docs/audit.md, anchor command)", outcome,
             failure.firstSeq, failure.lastSeq, failure.droppedCheckpoints);
      AuditRecord record;
      record.event = ANCHOR_FAILED_EVENT;
      record.args["first_seq"] = failure.firstSeq;
      record.args["last_seq"] = failure.lastSeq;
      record.args["checkpoints"] = failure.checkpoints;
      auto& o = failure.outcome;
      if (o.kind == AnchorOutcome::Kind::EXITED) record.args["exit_status"] = o.status;
      if (o.kind == AnchorOutcome::Kind::SIGNALLED || o.kind == AnchorOutcome::Kind::TIMED_OUT) {
        const char* name = sigabbrev_np(o.status);
        record.args["signal"] = name != nullptr ? std::string("SIG") + name : std::to_string(o.status);
      }
      record.args["timed_out"] = o.kind == AnchorOutcome::Kind::TIMED_OUT;
      record.args["bytes_offered"] = o.bytesOffered;
      record.args["bytes_written"] = o.bytesWritten;
      if (failure.droppedCheckpoints > 0) record.args["dropped"] = failure.droppedCheckpoints;
      record.result = outcome;
      appendRecord(record, Covering::BY_A_LATER_CHECKPOINT);
    }
  }
}

void AuditLog::stopAnchorDelivery() {
  KJ_IF_MAYBE(delivery, anchorDelivery_) {
    (*delivery)->finish();
    // Too late for a record: the closing checkpoint is the log's last line.
    for (auto& failure : (*delivery)->takeFailures()) {
      char outcome[160];
      describeAnchorOutcome(failure.outcome, (*delivery)->deadline(), outcome, sizeof(outcome));
      KJ_LOG(ERROR, "the anchor command did not take the closing checkpoints; the anchor lacks "
             "them and `airlock audit verify --anchor` will say so", outcome, failure.firstSeq,
             failure.lastSeq);
    }
  }
}

}  // namespace airlock::audit

#pragma once
// The audit log writer: one JSON object per line, one line per decision or lifecycle event,
// each line chained to the one before by its hash, with Ed25519-signed checkpoints.
//
// Durability. Each record reaches the file (one write(2) on an O_APPEND descriptor) before
// append() returns, so a record is in the page cache before the answer it describes is sent and
// survives a SIGKILL of the broker. Reaching the disk is the sync mode's job:
//   GROUP   append() marks the log dirty; sync() (called by AuditTimers within the sync window)
//           fdatasyncs once for every record appended since: group commit.
//   ALWAYS  append() fdatasyncs before it returns.
// Failure. A failed or short write makes append() return false and leaves the file as it was
// (a partial line is truncated away): callers must then refuse the operation (fail closed). A
// failed fdatasync, or a truncation that itself fails, puts the log in a failed state in which
// every later append() returns false until the broker is restarted: after a failed fdatasync
// Linux may already have dropped the dirty pages, so what is on disk is unknown.
//
// Chain and checkpoints. Every line carries "prev", the BLAKE2b-256 of the previous line's bytes
// (see chain.h). With a signing key, a checkpoint record signed with it is written after every
// `checkpointEveryRecords` records, when checkpoint() is called (AuditTimers does, every
// --checkpoint-ms) and, marked closing, by close(). Each checkpoint is also appended to the
// anchor file, if any, and handed to the anchor command, if any (anchor_delivery.h), whose
// failed runs come back through recordAnchorFailures() as `anchor.failed` records.
//
// Threading: owned by the broker's main(); every member is called from the broker's single
// event-loop thread only (AuditTimers and AnchorFailureWatch run on that loop too). Nothing here
// is thread-safe. The two threads it may own (group commit, anchor delivery) only borrow fds or
// take copies of checkpoint lines.

#include <kj/io.h>
#include <kj/memory.h>

#include <cstdint>
#include <memory>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/audit_observer.h"
#include "audit/signing_key.h"

namespace airlock::audit {

class AnchorDelivery;
class GroupCommitThread;
class UnsafeAuditOff;

// How long one run of the anchor command may take before it is killed: an ssh to a host that
// went away must not hold checkpoints back for long, and a slow link gets ten seconds.
constexpr std::chrono::milliseconds ANCHOR_COMMAND_DEADLINE{10000};
constexpr char ANCHOR_FAILED_EVENT[] = "anchor.failed";
// The argument the first record of every file carries: 32 random hex digits naming the file
// (docs/audit.md, "Shipping the log").
constexpr char SEGMENT_ID_ARG[] = "segment_id";

// What a decision or event was about. Fields left empty are omitted from the record.
struct AuditRecord {
  std::string event;        // "call", "fs.open", "auth", "worker.spawn", "worker.exit", ...
  std::string unit;
  int64_t workerPid = 0;    // host pid; 0 when not about a worker
  std::string caller;       // "uid:1000"
  std::string callId;       // ties a host call to the worker requests made while serving it
  nlohmann::ordered_json args = nlohmann::ordered_json::object();  // paths yes, secret values never
  std::string decision;     // "allow" or "deny" for decisions; empty for lifecycle events
  std::string rule;         // id of the deciding rule
  std::shared_ptr<const std::string> policyRev;
  // Revision of the policy set that decided (broker/policy/model/revision.h); shared with the loaded
  // policy, not copied per record. Null: not a decision of a policy ("policy_rev" omitted).
  std::string reason;
  std::string result;       // what happened when acting on the decision
  int64_t durationMicros = -1;  // -1: not measured
  int64_t cpuMicros = -1;
  // Host calls and invokes: the CPU time the serving worker's cgroup leaf used during the call
  // ("cpu_us"); -1: not measured (the worker runs without a leaf).
};

// Source of record timestamps, so tests can pin time.
class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual int64_t nowMicrosSinceEpoch() const = 0;
};
const WallClock& systemWallClock();

enum class SyncMode { GROUP, ALWAYS };

struct AuditLogOptions {
  SyncMode sync = SyncMode::GROUP;
  kj::Maybe<kj::Own<SigningKey>> key;  // null: chain only, no checkpoints
  uint64_t checkpointEveryRecords = 1000;
  std::string anchorPath;              // empty: no anchor file
  std::string anchorCommand;           // empty: none; else run by /bin/sh -c per delivery
  std::chrono::milliseconds anchorCommandDeadline = ANCHOR_COMMAND_DEADLINE;
  uint64_t rotateBytes = 0;            // 0: never rotate; see AuditLog::append
};

// Where a rotated file goes: `path` + "." + the seq of its first record, zero-padded to 20
// digits so that `ls PATH.*` (and a shell glob) lists a rotation set oldest first.
std::string rotatedPath(const std::string& path, uint64_t firstSequence);

// Told after each line the log writes, so timers can be armed only while there is work.
class AppendListener {
 public:
  virtual ~AppendListener() noexcept(false) = default;
  virtual void appended() = 0;
};

class AuditLog {
 public:
  // Opens (creating with mode 0600, appending to) `path` and, if set, the anchor file. Throws
  // naming the path and errno if it cannot, or if the existing log's last line is not a whole
  // record. Continues the sequence and the chain after the last record of an existing file.
  static kj::Own<AuditLog> open(const std::string& path, const WallClock& clock,
                                AuditLogOptions options = {});

  // A log on an already-open fd whose current content is `fileLength` bytes ending in a line
  // hashing to `prevHash` (ZERO_HASH_HEX for an empty file).
  AuditLog(kj::AutoCloseFd fd, std::string path, uint64_t nextSequence, const WallClock& clock,
           AuditLogOptions options = {}, std::string prevHash = "", uint64_t fileLength = 0);
  ~AuditLog() noexcept(false);  // best-effort sync; no checkpoint (call close() for that)

  [[nodiscard]] bool append(const AuditRecord& record);
  // Returns false, and logs why, if the record could not be written whole (or, in ALWAYS mode,
  // synced). A record not written consumes no sequence number and leaves the chain unchanged.
  //
  // Rotation: with rotateBytes > 0, when this record would take a non-empty file past that
  // size, the file is first closed (a closing checkpoint, with a key; fdatasync), renamed to
  // rotatedPath(path, its first seq) and replaced by a new file whose first record is
  // CONTINUED_EVENT (chain.h), so seq and chain run on across files. This happens here, between
  // two records on the writer's thread, so no record can fall between the files. If the closing
  // checkpoint cannot be written the record is refused and nothing moved; any later step failing
  // (rename, create) puts the log in the failed state. A file may end one checkpoint line past
  // rotateBytes.

  bool checkpoint();  // writes a signed checkpoint now if records were appended since the last
                      // one; true if there was nothing to do or it was written (and anchored)
  bool sync();        // fdatasync if dirty; false (and the failed state) if that fails
  void close();       // on a clean stop: a closing checkpoint (with a key), then sync()
  // From then on append() refuses every record (returns false): nothing may follow the closing
  // checkpoint, or the verifier rightly rejects the log.

  void setListener(AppendListener* listener) { listener_ = listener; }
  // Told about every record, line, refusal and fdatasync from now on (audit_observer.h); null:
  // nobody. Set before startGroupCommitThread(), whose thread reports its syncs too.
  void setObserver(AuditObserver* observer) { observer_ = observer; }

  // The units whose policies learn (policy.h UnitMode): from now on every record of one of them
  // carries "mode":"learn", so no record of a learning unit can pass for an enforced one. Set by
  // airlockd whenever a policy set comes into force (start, reload).
  void setLearningUnits(std::vector<std::string> units);

  // UNSAFE, benchmarks only (unsafe_audit_off.h): from now on append() writes nothing and
  // returns true, so no record, checkpoint or anchor line is ever written.
  void discardEveryRecord(const UnsafeAuditOff& token);

  // The anchor command's failure reports become `anchor.failed` records (and ERROR log lines).
  // These records do not count toward a checkpoint, neither by number nor by time: a checkpoint
  // is only caused by other records, so a failing command cannot start a cycle of checkpoint,
  // failed run, record, checkpoint. They are covered by the next checkpoint that is written
  // anyway (at the latest the closing one). Called by AnchorFailureWatch when
  // anchorFailuresFd() is readable, and by close().
  void recordAnchorFailures();
  kj::Maybe<int> anchorFailuresFd() const;  // null without an anchor command

  void startGroupCommitThread(std::chrono::microseconds window);
  // GROUP mode only: from now on a background thread (group_commit.h) makes records durable
  // within `window`, instead of sync() being called on the event loop. Call once, after open.
  bool commitsInBackground() const { return committer_ != nullptr; }

  uint64_t nextSequence() const { return nextSequence_; }
  uint64_t recordsSinceCheckpoint() const { return recordsSinceCheckpoint_; }
  bool signs() const { return key_ != nullptr; }
  bool dirty() const { return dirty_; }
  bool failed() const { return failed_; }
  SyncMode syncMode() const { return syncMode_; }
  const std::string& path() const { return path_; }

  static std::string formatTime(int64_t microsSinceEpoch);  // RFC 3339, UTC, microseconds

 private:
  std::string formatRecord(const AuditRecord& record) const;  // with the next seq and prev
  std::vector<std::string> learningUnits_;  // sorted
  // Whether a record brings the next checkpoint closer (see recordAnchorFailures()).
  enum class Covering { COUNTS_TOWARD_CHECKPOINT, BY_A_LATER_CHECKPOINT };
  bool appendRecord(const AuditRecord& record, Covering covering);
  void stopAnchorDelivery();  // last delivery run; failures then only reach the broker log
  bool rotationDue(size_t lineBytes) const;
  bool rotate();
  bool writeLine(const std::string& line);
  bool appendRecordOrRefuse(const AuditRecord& record, Covering covering);
  int timedFdatasync(int fd);  // fdatasync's result, told to the observer with its duration
  bool writeCheckpoint(bool closing);
  bool appendToAnchor(const std::string& line);
  void fail(const char* what, int error);

  kj::AutoCloseFd fd_;
  std::string path_;
  uint64_t nextSequence_;
  const WallClock& clock_;
  SyncMode syncMode_;
  kj::Maybe<kj::Own<SigningKey>> ownedKey_;
  const SigningKey* key_ = nullptr;  // into ownedKey_
  uint64_t checkpointEveryRecords_;
  std::string prevHash_;
  uint64_t fileLength_;              // bytes of whole lines; a failed write truncates back here
  kj::Maybe<kj::AutoCloseFd> anchorFd_;
  std::string anchorPath_;
  uint64_t anchorLength_ = 0;
  uint64_t recordsSinceCheckpoint_ = 0;
  uint64_t rotateBytes_;
  uint64_t firstSequenceInFile_;     // names the file when it is rotated
  std::chrono::microseconds commitWindow_{0};  // to restart the committer on a new file
  bool dirty_ = false;
  bool failed_ = false;
  bool closed_ = false;      // close() was called
  bool endsClosed_ = false;  // the file's last line is a closing checkpoint
  bool discarding_ = false;  // discardEveryRecord()
  AppendListener* listener_ = nullptr;
  AuditObserver* observer_ = nullptr;
  kj::Maybe<kj::Own<AnchorDelivery>> anchorDelivery_;
  kj::Maybe<kj::Own<GroupCommitThread>> committerOwned_;  // last: borrows fd_ and anchorFd_
  GroupCommitThread* committer_ = nullptr;                 // into committerOwned_
};

}  // namespace airlock::audit

#include "audit/verifier.h"

#include <kj/debug.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "audit/chain.h"
#include "audit/hash_ahead_reader.h"
#include "audit/json_fields.h"
#include "audit/line_reader.h"
#include "audit/record_scanner.h"
#include "audit/rotation_set.h"
#include "audit/seq_index.h"

namespace airlock::audit {

namespace _ {

using Json = nlohmann::ordered_json;

// A line of the set: the file (index into VerifyOptions::logPaths) and its 1-based line, packed
// into one number so that SeqIndex can hold it. 0: no line.
constexpr int LINE_BITS = 40;
uint64_t positionOf(size_t file, uint64_t line) {
  return ((static_cast<uint64_t>(file) + 1) << LINE_BITS) | line;
}
size_t fileAt(uint64_t position) { return (position >> LINE_BITS) - 1; }
uint64_t lineAt(uint64_t position) { return position & ((uint64_t{1} << LINE_BITS) - 1); }

// What the walk remembers about the previous parsed line.
struct Link {
  uint64_t at = 0;  // position
  uint64_t seq = 0;
  HashHex hash;
  bool seqAnomaly = false;
  bool closingCheckpoint = false;
};

struct Gap {
  uint64_t at, seq, from;  // seq jumped from `from` to `seq` at position `at`
};

struct CheckpointSeen {
  uint64_t at;
  std::string text;
};

class Walker {
 public:
  Walker(const VerifyOptions& options, VerifyReport& report)
      : options_(options), report_(report) {}

  void walkSet();
  void checkGaps();
  void checkTail();
  void readAnchor();  // before the walk: a live log's anchor then holds nothing the log lacks
  void checkAnchor();

 private:
  void add(const std::string& file, uint64_t line, int64_t seq, Finding kind,
           std::string message);
  // A problem at position `at` (0: the first file as a whole).
  void addAt(uint64_t at, int64_t seq, Finding kind, std::string message) {
    const std::string& file = options_.logPaths[at == 0 ? 0 : fileAt(at)];
    add(file, lineAt(at), seq, kind, kj::mv(message));
  }
  // "line N", or "line N of FILE" when `at` is in another file than `from`.
  std::string lineName(uint64_t at, uint64_t from) const {
    std::string name = "line " + std::to_string(lineAt(at));
    if (fileAt(at) != fileAt(from)) name += " of " + options_.logPaths[fileAt(at)];
    return name;
  }
  void checkSetOrder(const std::vector<SetFileEnds>& ends, const SetOrder& order);
  void walkFile(size_t file, const SetFileEnds& ends, bool continuesPrevious);
  // `line` is the line `lines` returned last, whose hash() it takes if the line is followed.
  void record(uint64_t at, std::string_view line, const HashAheadReader& lines);
  // The checks every record gets once its seq, prev and event are known; `parsed` is the whole
  // record for a checkpoint (whose fields are checked too), null otherwise.
  void follow(uint64_t at, std::string_view line, const HashAheadReader& lines, uint64_t seq,
              std::string_view prev, std::string_view event, const Json* parsed);
  bool classifySeq(uint64_t at, uint64_t seq, std::string_view prev);
  void checkpoint(uint64_t at, std::string_view line, const Json& j, uint64_t seq,
                  std::string_view prev);
  // Verifies a checkpoint's signature; returns false after reporting why not.
  bool signatureHolds(uint64_t at, uint64_t seq, const Json& j);

  const VerifyOptions& options_;
  VerifyReport& report_;
  kj::Maybe<Link> previous_;          // null at the start and after a malformed line
  bool started_ = false;
  uint64_t maxSeq_ = 0;
  SeqIndex lineOfSeq_;
  std::vector<Gap> gaps_;
  std::map<uint64_t, CheckpointSeen> checkpoints_;  // by seq
  uint64_t checkpointCount_ = 0;
  uint64_t recordsAfterCheckpoint_ = 0;
  bool lastCheckpointClosing_ = false;
  uint64_t lastCheckpointSeq_ = 0;
  std::vector<std::string> anchorLines_;
  bool anchorReadable_ = false;
  uint64_t lastAt_ = 0;
  int64_t lastSeq_ = -1;
};

std::string shortKey(const std::string& hex) { return hex.substr(0, 16) + "…"; }

// The fields AuditLog::checkpoint() writes, in its order.
constexpr std::array<std::string_view, 9> CHECKPOINT_FIELDS = {
    "seq", "time", "event", "prev", "covers", "chain", "closing", "key", "sig"};

// A field name from the log, JSON-quoted so it stays one line, and cut to a readable length.
std::string quotedField(const std::string& name) {
  constexpr size_t MAX_QUOTED_CHARS = 80;
  std::string quoted = Json(name).dump(-1, ' ', false, Json::error_handler_t::replace);
  return quoted.size() <= MAX_QUOTED_CHARS ? quoted : quoted.substr(0, MAX_QUOTED_CHARS) + "…";
}

// Empty if the checkpoint has exactly CHECKPOINT_FIELDS in that order, else what differs.
std::string checkpointFieldsDiffer(const Json& j) {
  size_t i = 0;
  for (auto& [name, value] : j.items()) {
    bool known = std::find(CHECKPOINT_FIELDS.begin(), CHECKPOINT_FIELDS.end(), name) !=
                 CHECKPOINT_FIELDS.end();
    if (!known) return "it has a field " + quotedField(name) + " airlockd never writes";
    if (i >= CHECKPOINT_FIELDS.size() || name != CHECKPOINT_FIELDS[i]) {
      return "its field " + quotedField(name) + " is out of the order airlockd writes";
    }
    ++i;
  }
  return {};
}

bool isHexString(const Json& j, const char* key, size_t chars) {
  return j.contains(key) && j[key].is_string() && isLowerHex(j[key].get<std::string>(), chars);
}

void Walker::add(const std::string& file, uint64_t line, int64_t seq, Finding kind,
                 std::string message) {
  if (report_.problems.size() >= VerifyReport::MAX_PROBLEMS) {
    ++report_.problemsOmitted;
    return;
  }
  report_.problems.push_back(Problem{file, line, seq, kind, kj::mv(message)});
}

// The files in the order they chain in; a file missing from the set, or given out of order, is
// named once here, and the walk then goes on in chain order so the records are checked as well.
void Walker::walkSet() {
  std::vector<SetFileEnds> ends;
  for (auto& path : options_.logPaths) ends.push_back(readFileEnds(path));
  SetOrder order = orderBySuccession(ends);
  checkSetOrder(ends, order);
  for (size_t file : order.walk) {
    walkFile(file, ends[file], order.predecessor[file] != nullptr);
  }
}

void Walker::checkSetOrder(const std::vector<SetFileEnds>& ends, const SetOrder& order) {
  auto& paths = options_.logPaths;
  for (size_t file = 0; file < paths.size(); ++file) {
    KJ_IF_MAYBE(continuation, ends[file].continues) {
      KJ_IF_MAYBE(predecessor, order.predecessor[file]) {
        if (*predecessor > file) {
          std::string inOrder;
          for (size_t i : order.walk) inOrder += " " + paths[i];
          addAt(positionOf(file, 1), continuation->fromSeq + 1, Finding::FILES_OUT_OF_ORDER,
                "files out of order: this file continues " + paths[*predecessor] +
                    ", which is given after it; in order:" + inOrder);
        }
      } else {
        std::string before =
            file == 0 ? "it is the first file given; give the rotated files before it, oldest "
                        "first"
                      : ends[file - 1].hasLastLine
                            ? "the file given before it, " + paths[file - 1] + ", ends at seq " +
                                  std::to_string(ends[file - 1].lastSeq)
                            : "the file given before it is " + paths[file - 1];
        addAt(positionOf(file, 1), continuation->fromSeq + 1, Finding::FILE_MISSING,
              "file missing: this file continues " + continuation->fromFile +
                  " (ending at seq " + std::to_string(continuation->fromSeq) +
                  "), which is not among the files given, or was cut; " + before);
      }
    }
  }
}

void Walker::walkFile(size_t file, const SetFileEnds& ends, bool continuesPrevious) {
  const std::string& path = options_.logPaths[file];
  std::string error;
  kj::Own<LineReader> reader;
  KJ_IF_MAYBE(opened, LineReader::open(path, error)) {
    reader = kj::mv(*opened);
  } else {
    add(path, 0, -1, Finding::UNREADABLE, "cannot read the log: " + error);
    return;
  }
  if (!continuesPrevious) {
    previous_ = nullptr;  // the chain restarts here (a missing file was reported)
    KJ_IF_MAYBE(continuation, ends.continues) {
      // Seqs go on from where the missing file ended: that is not also a gap.
      started_ = true;
      maxSeq_ = std::max(maxSeq_, continuation->fromSeq);
    }
  }
  HashAheadReader lines(kj::mv(reader), options_.hashing);
  std::string_view line;
  bool whole = true;
  uint64_t lineNumber = 0;
  while (lines.next(line, whole)) {
    ++lineNumber;
    if (!whole) {
      // The writer never leaves a partial line; a live log's last one may be being written.
      if (!options_.requireClosed && file + 1 == options_.logPaths.size()) {
        report_.tail.partialLine = true;
        break;
      }
      addAt(positionOf(file, lineNumber), -1, Finding::TAIL_CUT,
            "tail cut: the last line is incomplete (no newline): the file was cut mid-record");
      break;
    }
    record(positionOf(file, lineNumber), line, lines);
  }
  if (lines.readErrno() != 0) {
    add(path, lineNumber + 1, -1, Finding::UNREADABLE,
        std::string("cannot read the log: ") + strerror(lines.readErrno()));
  }
}

void Walker::record(uint64_t at, std::string_view line, const HashAheadReader& lines) {
  ++report_.records;
  lastAt_ = at;
  // Fast path: a line proven to be in the writer's exact form needs no general parse, unless it
  // is a checkpoint (one in every --checkpoint-every records), whose fields are checked below.
  KJ_IF_MAYBE(scanned, scanCanonicalRecord(line)) {
    if (scanned->event != "checkpoint") {
      follow(at, line, lines, scanned->seq, scanned->prev, scanned->event, nullptr);
      return;
    }
  }
  Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !hasUnsignedField(j, "seq") || !isHexString(j, "prev", HASH_HEX_CHARS) ||
      !j.contains("event") || !j["event"].is_string()) {
    addAt(at, -1, Finding::MALFORMED,
          line.empty() ? "malformed record: empty line"
                       : "malformed record: not a JSON object with seq, event and prev");
    previous_ = nullptr;  // the chain cannot be followed across this line
    return;
  }
  uint64_t seq = j["seq"].get<uint64_t>();
  if (j.dump(-1, ' ', false, Json::error_handler_t::replace) != line) {
    addAt(at, seq, Finding::MODIFIED,
          "modified record: not byte-for-byte in the form airlockd writes (edited or "
          "re-encoded)");
  }
  const std::string& prev = j["prev"].get_ref<const std::string&>();
  const std::string& event = j["event"].get_ref<const std::string&>();
  follow(at, line, lines, seq, prev, event, &j);
}

void Walker::follow(uint64_t at, std::string_view line, const HashAheadReader& lines,
                    uint64_t seq, std::string_view prev, std::string_view event,
                    const Json* parsed) {
  lastSeq_ = static_cast<int64_t>(seq);
  HashHex hash = lines.hash();
  bool anomaly = classifySeq(at, seq, prev);
  bool firstOfFile = lineAt(at) == 1;

  KJ_IF_MAYBE(before, previous_) {
    if (!anomaly && !before->seqAnomaly && prev != view(before->hash)) {
      addAt(before->at, before->seq, Finding::MODIFIED,
            "modified record: its hash no longer matches the prev of seq " + std::to_string(seq) +
                " (" + lineName(at, before->at) + ")");
    }
    bool mayFollowClosing =
        event == "broker.start" || (event == CONTINUED_EVENT && firstOfFile);
    if (before->closingCheckpoint && !mayFollowClosing && !anomaly) {
      addAt(at, seq, Finding::INSERTED,
            "inserted record: it follows the closing checkpoint at seq " +
                std::to_string(before->seq) + ", where only a broker.start can" +
                (firstOfFile ? " (or, first in the next file, an audit.continued)" : ""));
    }
  }
  if (event == CONTINUED_EVENT && !firstOfFile) {
    addAt(at, seq, Finding::INSERTED,
          "inserted record: an audit.continued record can only be the first line of a file");
  }
  bool closing = false;
  if (event == "checkpoint") {
    KJ_ASSERT(parsed != nullptr, "checkpoints take the parsed path");
    checkpoint(at, line, *parsed, seq, prev);
    closing = parsed->contains("closing") && (*parsed)["closing"] == true;
  } else {
    ++recordsAfterCheckpoint_;
  }
  previous_ = Link{at, seq, hash, anomaly, closing};
}

// Returns true if `seq` does not simply continue the sequence (already reported, or a gap that
// checkGaps() classifies once every seq is known).
bool Walker::classifySeq(uint64_t at, uint64_t seq, std::string_view prev) {
  bool anomaly = false;
  if (!started_) {
    started_ = true;
    if (seq != 1) {
      gaps_.push_back(Gap{at, seq, 0});
      anomaly = true;
    } else if (prev != ZERO_HASH_HEX) {
      addAt(at, seq, Finding::MODIFIED,
            "modified record: the first record's prev is not the zero hash");
    }
  } else if (seq > maxSeq_ + 1) {
    gaps_.push_back(Gap{at, seq, maxSeq_});
    anomaly = true;
  } else if (seq <= maxSeq_) {
    KJ_IF_MAYBE(seen, lineOfSeq_.positionOf(seq)) {
      addAt(at, seq, Finding::INSERTED,
            "inserted record: seq " + std::to_string(seq) + " already appeared at " +
                lineName(*seen, at));
    } else {
      addAt(at, seq, Finding::REORDERED,
            "reordered records: seq " + std::to_string(seq) + " comes after seq " +
                std::to_string(maxSeq_));
    }
    anomaly = true;
  }
  maxSeq_ = std::max(maxSeq_, seq);
  lineOfSeq_.add(seq, at);
  return anomaly;
}

void Walker::checkpoint(uint64_t at, std::string_view line, const Json& j, uint64_t seq,
                        std::string_view prev) {
  if (!hasUnsignedField(j, "covers") || !isHexString(j, "chain", HASH_HEX_CHARS) ||
      !isHexString(j, "key", HASH_HEX_CHARS) || !isHexString(j, "sig", 2 * HASH_HEX_CHARS) ||
      !j.contains("closing") || !j["closing"].is_boolean() || !j.contains("time") ||
      !j["time"].is_string()) {
    addAt(at, seq, Finding::MALFORMED,
            "malformed checkpoint: covers, chain, closing, time, key or sig missing or wrong");
    return;
  }
  // The signature covers covers, chain, time and closing, and the next record's prev covers the
  // whole line; but nothing follows the closing checkpoint, so a field added to it, or its
  // fields moved, would change the log unnoticed unless its form is checked here.
  std::string fieldsDiffer = checkpointFieldsDiffer(j);
  if (!fieldsDiffer.empty()) {
    addAt(at, seq, Finding::MODIFIED,
          "modified record: checkpoint not in the form airlockd writes: " + fieldsDiffer);
  }
  ++checkpointCount_;
  recordsAfterCheckpoint_ = 0;
  lastCheckpointClosing_ = j["closing"].get<bool>();
  lastCheckpointSeq_ = seq;
  checkpoints_.emplace(seq, CheckpointSeen{at, std::string(line)});
  uint64_t covers = j["covers"].get<uint64_t>();
  const std::string& chain = j["chain"].get_ref<const std::string&>();
  KJ_IF_MAYBE(before, previous_) {
    if (covers < before->seq) {
      addAt(at, seq, Finding::INSERTED,
              "inserted record(s): this checkpoint signed seq " + std::to_string(covers) +
                  " as the last record, but " + std::to_string(before->seq - covers) +
                  " more precede it");
    } else if (covers > before->seq) {
      addAt(at, seq, Finding::DELETED,
              "deleted record(s): this checkpoint signed seq " + std::to_string(covers) +
                  " as the last record, but the record before it is seq " +
                  std::to_string(before->seq));
    } else if (chain != view(before->hash) && prev == view(before->hash)) {
      addAt(at, seq, Finding::MODIFIED,
              "modified record(s) before this checkpoint: the chain was recomputed and no longer "
              "matches the hash it signed for seq " + std::to_string(covers));
    }
  }
  if (signatureHolds(at, seq, j)) ++report_.checkpoints;
}

bool Walker::signatureHolds(uint64_t at, uint64_t seq, const Json& j) {
  std::string keyHex = j["key"].get<std::string>();
  PublicKey signer = KJ_ASSERT_NONNULL(PublicKey::fromHex(keyHex));
  KJ_IF_MAYBE(trusted, options_.trustedKey) {
    if (!(signer == *trusted)) {
      addAt(at, static_cast<int64_t>(seq), Finding::WRONG_KEY,
          "wrong key: checkpoint signed by key " + shortKey(keyHex) + ", not by the --key given (" +
              shortKey(trusted->hex()) + ")");
      return false;
    }
  }
  std::string input = checkpointSigningInput(
      j["covers"].get<uint64_t>(), j["chain"].get<std::string>(), j["time"].get<std::string>(),
      j["closing"].get<bool>());
  if (!signer.verifies(input, j["sig"].get<std::string>())) {
    addAt(at, static_cast<int64_t>(seq), Finding::BAD_SIGNATURE,
        "bad signature: the checkpoint's signature does not verify with key " + shortKey(keyHex) +
            " (its covers, chain, time or closing field was changed, or the sig forged)");
    return false;
  }
  return true;
}

void Walker::checkGaps() {
  if (gaps_.empty()) return;
  std::vector<uint64_t> present = lineOfSeq_.sortedSeqs();
  for (auto& gap : gaps_) {
    // Seqs strictly between gap.from and gap.seq that appear nowhere in the file were deleted;
    // ones that appear elsewhere were moved (reported as reordered where they landed).
    auto first = std::upper_bound(present.begin(), present.end(), gap.from);
    auto last = std::lower_bound(present.begin(), present.end(), gap.seq);
    uint64_t span = gap.seq - gap.from - 1;
    uint64_t missing = span - static_cast<uint64_t>(last - first);
    if (missing == 0) continue;
    std::string which = span == 1 ? "seq " + std::to_string(gap.from + 1)
                                  : "seq " + std::to_string(gap.from + 1) + ".." +
                                        std::to_string(gap.seq - 1);
    addAt(gap.at, gap.seq, Finding::DELETED,
            "deleted record(s): " + std::to_string(missing) + " record(s) of " + which +
                " missing before seq " + std::to_string(gap.seq));
  }
}

void Walker::checkTail() {
  if (report_.records == 0) {
    // An empty log is what a log cut to nothing looks like: with a key or --require-closed it
    // lacks what they require (airlockd's first record is signed into a checkpoint, and a closed
    // log ends with one).
    if ((options_.trustedKey != nullptr || options_.requireClosed) && !options_.logPaths.empty()) {
      add(options_.logPaths.back(), 0, -1, Finding::NO_CHECKPOINT,
          "no checkpoint: the log holds no record (cut to nothing, or not an audit log)");
    }
    return;
  }
  if (checkpointCount_ == 0) {
    if (options_.trustedKey != nullptr) {
      addAt(lastAt_, lastSeq_, Finding::NO_CHECKPOINT,
              "no checkpoint: none of the " + std::to_string(report_.records) +
                  " records is signed (was airlockd started without --key?)");
    }
    return;
  }
  if (!options_.requireClosed) {
    OpenTail& tail = report_.tail;
    tail.open = recordsAfterCheckpoint_ > 0 || !lastCheckpointClosing_ || tail.partialLine;
    tail.signedThrough = lastCheckpointSeq_;
    tail.unsignedRecords = recordsAfterCheckpoint_;
    tail.lastSeq = lastSeq_ < 0 ? 0 : static_cast<uint64_t>(lastSeq_);
    return;
  }
  if (recordsAfterCheckpoint_ > 0) {
    addAt(lastAt_, lastSeq_, Finding::NOT_CLOSED,
            "log ends " + std::to_string(recordsAfterCheckpoint_) +
                " records after its last checkpoint; not closed cleanly: truncated, or the broker "
                "was killed");
  } else if (!lastCheckpointClosing_) {
    addAt(lastAt_, lastSeq_, Finding::NOT_CLOSED,
            "log ends at a periodic checkpoint, not a closing one; not closed cleanly: "
            "truncated, or the broker was killed");
  }
}

void Walker::readAnchor() {
  if (options_.anchorPath.empty()) return;
  std::string error;
  kj::Own<LineReader> reader;
  KJ_IF_MAYBE(opened, LineReader::open(options_.anchorPath, error)) {
    reader = kj::mv(*opened);
  } else {
    add(options_.anchorPath, 0, -1, Finding::UNREADABLE, "cannot read the anchor: " + error);
    return;
  }
  std::string_view line;
  bool whole = true;
  while (reader->next(line, whole)) anchorLines_.emplace_back(line);
  if (reader->readErrno() != 0) {
    add(options_.anchorPath, anchorLines_.size() + 1, -1, Finding::UNREADABLE,
        std::string("cannot read the anchor: ") + strerror(reader->readErrno()));
    return;
  }
  anchorReadable_ = true;
}

void Walker::checkAnchor() {
  if (options_.anchorPath.empty()) return;
  report_.anchorChecked = true;
  if (!anchorReadable_) return;
  uint64_t lineNumber = 0;
  uint64_t firstAnchored = UINT64_MAX, lastAnchored = 0;
  std::map<uint64_t, bool> anchored;
  for (const std::string& line : anchorLines_) {
    ++lineNumber;
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !hasUnsignedField(j, "seq") || stringField(j, "event") != "checkpoint") {
      add(options_.anchorPath, lineNumber, -1, Finding::MALFORMED,
          "malformed record: the anchor line is not a checkpoint record");
      continue;
    }
    uint64_t seq = j["seq"].get<uint64_t>();
    firstAnchored = std::min(firstAnchored, seq);
    lastAnchored = std::max(lastAnchored, seq);
    anchored[seq] = true;
    auto inLog = checkpoints_.find(seq);
    std::string where = options_.anchorPath + ":" + std::to_string(lineNumber);
    if (inLog != checkpoints_.end()) {
      if (inLog->second.text != line) {
        addAt(inLog->second.at, seq, Finding::ANCHOR_MISMATCH,
                "anchor mismatch: this checkpoint differs from its copy at " + where);
      }
    } else if (seq > maxSeq_) {
      add(options_.anchorPath, lineNumber, seq, Finding::TAIL_CUT,
          "tail cut: the anchor has checkpoint seq " + std::to_string(seq) +
              " but the log ends at seq " + std::to_string(maxSeq_));
    } else {
      uint64_t inLog = 0;
      KJ_IF_MAYBE(found, lineOfSeq_.positionOf(seq)) { inLog = *found; }
      addAt(inLog, seq, Finding::ANCHOR_MISMATCH,
              "anchor mismatch: the anchor's checkpoint seq " + std::to_string(seq) + " (" +
                  where + ") is not a checkpoint in the log");
    }
  }
  if (anchored.empty() && options_.requireClosed && !checkpoints_.empty()) {
    add(options_.anchorPath, 0, -1, Finding::ANCHOR_MISMATCH,
        "anchor mismatch: the anchor holds no checkpoint, the log " +
            std::to_string(checkpoints_.size()));
  }
  // The anchor may have been added to an existing log: it vouches from its first checkpoint on.
  for (auto& [seq, seen] : checkpoints_) {
    // A live log's anchor lags: airlockd writes a checkpoint to the log first, and an anchor
    // command delivers later (and retries).
    if (!options_.requireClosed && seq > lastAnchored) {
      ++report_.tail.unanchoredCheckpoints;
      continue;
    }
    if (seq >= firstAnchored && anchored.find(seq) == anchored.end()) {
      addAt(seen.at, seq, Finding::ANCHOR_MISMATCH,
              "anchor mismatch: this checkpoint is not in the anchor " + options_.anchorPath);
    }
  }
}

}  // namespace _

const char* findingName(Finding finding) {
  switch (finding) {
    case Finding::UNREADABLE: return "cannot read";
    case Finding::MALFORMED: return "malformed";
    case Finding::MODIFIED: return "modified record";
    case Finding::DELETED: return "deleted record";
    case Finding::REORDERED: return "reordered records";
    case Finding::INSERTED: return "inserted record";
    case Finding::TAIL_CUT: return "tail cut";
    case Finding::NOT_CLOSED: return "not closed cleanly";
    case Finding::NO_CHECKPOINT: return "no checkpoint";
    case Finding::BAD_SIGNATURE: return "bad signature";
    case Finding::WRONG_KEY: return "wrong key";
    case Finding::ANCHOR_MISMATCH: return "anchor mismatch";
    case Finding::FILE_MISSING: return "file missing";
    case Finding::FILES_OUT_OF_ORDER: return "files out of order";
  }
  return "unknown finding";
}

std::string Problem::describe() const {
  std::string text = file + ":" + std::to_string(line) + ": ";
  if (seq >= 0) text += "seq " + std::to_string(seq) + ": ";
  return text + message;
}

std::string VerifyReport::summary() const {
  if (!ok()) {
    return "FAILED: " + std::to_string(problems.size() + problemsOmitted) + " problem(s)";
  }
  std::string text = "ok: " + std::to_string(records) + " records, " +
                     std::to_string(checkpoints) + " signed checkpoints";
  if (checkpoints == 0) {
    text += " (unsigned log: a cut tail cannot be detected)";
  } else if (!keyChecked) {
    text += " (by the key they name; pass --key to check it is yours)";
  }
  text += ", chain intact";
  if (anchorChecked) text += ", anchor matches";
  if (!tail.open) return text;
  text += "; open (still being written): ";
  if (tail.signedThrough == 0) {
    text += "no checkpoint yet, so no record is signed";
  } else {
    text += std::to_string(tail.unsignedRecords) + " records after the checkpoint at seq " +
            std::to_string(tail.signedThrough) + " not signed yet";
    if (tail.unsignedRecords > 0) {
      text += " (seq " + std::to_string(tail.signedThrough + 1) + ".." +
              std::to_string(tail.lastSeq) + ")";
    }
  }
  if (tail.partialLine) text += ", the last line is being written";
  if (tail.unanchoredCheckpoints > 0) {
    text += ", " + std::to_string(tail.unanchoredCheckpoints) + " checkpoints not in the anchor yet";
  }
  return text;
}

VerifyReport verifyLog(const VerifyOptions& options) {
  KJ_REQUIRE(!options.logPaths.empty(), "verifyLog needs at least one file");
  VerifyReport report;
  report.keyChecked = options.trustedKey != nullptr;
  _::Walker walker(options, report);
  walker.readAnchor();
  walker.walkSet();
  walker.checkGaps();
  walker.checkTail();
  walker.checkAnchor();
  if (report.problemsOmitted > 0 && !report.problems.empty()) {
    // Say so in the output itself, as the last problem line.
    report.problems.back().message +=
        " (and " + std::to_string(report.problemsOmitted) + " more problems not listed)";
  }
  return report;
}

}  // namespace airlock::audit

#pragma once
// Reads audit records for the audit tools (query, stats, report): the lines of one or more
// files in the order given (a rotation set, oldest first), each parsed into the fields the tools
// filter and count on, with the line's exact bytes kept so a query can print it unchanged.
//
// It checks only what those tools need (a JSON object with an unsigned "seq", a "time" in RFC
// 3339 and a string "event"; the other known fields, when present, of the right type). Whether
// the log is the one airlockd wrote is `audit::verifyLog`'s job, not this one.
//
// Owns its open files; one thread at a time.

#include <kj/common.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace airlock::audit {

struct LoggedRecord {
  std::string file;         // the path it was read from, as given
  uint64_t lineNumber = 0;  // 1-based, within `file`
  std::string line;         // the exact bytes of the line, without its newline
  nlohmann::ordered_json json;  // the parsed line, its keys in the order of the file

  uint64_t seq = 0;
  int64_t timeMicros = 0;   // "time", microseconds since the epoch
  std::string event;
  // Empty when the record has no such field.
  std::string unit, caller, decision, rule, result;
  std::string callId;       // "call_id"

  const nlohmann::ordered_json& args() const;  // the "args" object; an empty object when absent
};

// A line that is not a record, or a file that cannot be read (line 0).
struct LineProblem {
  std::string file;
  uint64_t lineNumber = 0;
  std::string message;

  std::string describe() const;  // "FILE:LINE: message", or "FILE: message" for line 0
};

// Parses one line. Null, with `why` set, if it is not a record.
kj::Maybe<LoggedRecord> parseRecordLine(const std::string& file, uint64_t lineNumber,
                                        std::string line, std::string& why);

class RecordReader {
 public:
  // Opens every file now, so that an unreadable one is reported (openProblems()) before any
  // record is read; unreadable files are skipped by next().
  explicit RecordReader(const std::vector<std::string>& paths);

  const std::vector<LineProblem>& openProblems() const { return openProblems_; }

  enum class Next { RECORD, MALFORMED, END };
  // Reads the next line of the current file, moving on to the next file at its end. RECORD
  // fills `record`; MALFORMED fills `problem` (a line that is not a record, or a last line
  // without its newline: cut, or still being written); END when every file is read.
  Next next(LoggedRecord& record, LineProblem& problem);

 private:
  struct OpenFile {
    std::string path;
    std::unique_ptr<std::ifstream> in;
    uint64_t lineNumber = 0;
  };
  std::vector<OpenFile> files_;
  size_t current_ = 0;
  std::vector<LineProblem> openProblems_;
};

}  // namespace airlock::audit

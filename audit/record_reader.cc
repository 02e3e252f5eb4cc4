#include "audit/record_reader.h"

#include <cerrno>
#include <cstring>

#include "audit/log_file.h"
#include "audit/record_time.h"

namespace airlock::audit {

namespace _ {

// Copies `json[key]` into `out` if present; false if present but not a string.
bool optionalString(const nlohmann::ordered_json& json, const char* key, std::string& out) {
  auto found = json.find(key);
  if (found == json.end()) return true;
  if (!found->is_string()) return false;
  out = found->get<std::string>();
  return true;
}

std::string checkRecordFields(const nlohmann::ordered_json& json, LoggedRecord& record) {
  if (!json.is_object()) return "not a JSON object";
  auto seq = json.find("seq");
  if (seq == json.end() || !seq->is_number_unsigned()) return "no unsigned \"seq\"";
  record.seq = seq->get<uint64_t>();
  auto event = json.find("event");
  if (event == json.end() || !event->is_string()) return "no string \"event\"";
  record.event = event->get<std::string>();
  auto time = json.find("time");
  if (time == json.end() || !time->is_string()) return "no string \"time\"";
  KJ_IF_MAYBE(micros, parseRfc3339Micros(time->get<std::string>())) {
    record.timeMicros = *micros;
  } else {
    return "\"time\" is not an RFC 3339 date-time";
  }
  for (auto [key, out] : {std::pair{"unit", &record.unit}, std::pair{"caller", &record.caller},
                          std::pair{"decision", &record.decision},
                          std::pair{"rule", &record.rule}, std::pair{"result", &record.result},
                          std::pair{"call_id", &record.callId}}) {
    if (!optionalString(json, key, *out)) return std::string("\"") + key + "\" is not a string";
  }
  auto args = json.find("args");
  if (args != json.end() && !args->is_object()) return "\"args\" is not an object";
  return "";
}

}  // namespace _

const nlohmann::ordered_json& LoggedRecord::args() const {
  static const nlohmann::ordered_json EMPTY = nlohmann::ordered_json::object();
  auto found = json.find("args");
  return found == json.end() ? EMPTY : *found;
}

std::string LineProblem::describe() const {
  if (lineNumber == 0) return file + ": " + message;
  return file + ":" + std::to_string(lineNumber) + ": " + message;
}

kj::Maybe<LoggedRecord> parseRecordLine(const std::string& file, uint64_t lineNumber,
                                        std::string line, std::string& why) {
  LoggedRecord record;
  record.json = nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (record.json.is_discarded()) {
    why = line.empty() ? "empty line" : "not JSON";
    return nullptr;
  }
  why = _::checkRecordFields(record.json, record);
  if (!why.empty()) return nullptr;
  record.file = file;
  record.lineNumber = lineNumber;
  record.line = kj::mv(line);
  return kj::mv(record);
}

RecordReader::RecordReader(const std::vector<std::string>& paths) {
  for (auto& path : paths) {
    std::string why = whyNotALogFile(path);
    if (!why.empty()) {
      openProblems_.push_back(LineProblem{path, 0, "cannot read: " + why});
      continue;
    }
    auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
    if (!*in) {
      openProblems_.push_back(
          LineProblem{path, 0, std::string("cannot read: ") + strerror(errno)});
      continue;
    }
    files_.push_back(OpenFile{path, kj::mv(in), 0});
  }
}

RecordReader::Next RecordReader::next(LoggedRecord& record, LineProblem& problem) {
  std::string line;
  while (current_ < files_.size()) {
    auto& file = files_[current_];
    if (!std::getline(*file.in, line)) {
      ++current_;
      continue;
    }
    ++file.lineNumber;
    if (file.in->eof()) {
      // getline reached the end before a '\n'; airlockd writes whole lines only.
      problem = LineProblem{file.path, file.lineNumber,
                            "malformed record: incomplete last line (no newline): the file was "
                            "cut, or the line is still being written"};
      return Next::MALFORMED;
    }
    std::string why;
    KJ_IF_MAYBE(parsed, parseRecordLine(file.path, file.lineNumber, kj::mv(line), why)) {
      record = kj::mv(*parsed);
      return Next::RECORD;
    }
    problem = LineProblem{file.path, file.lineNumber, "malformed record: " + why};
    return Next::MALFORMED;
  }
  return Next::END;
}

}  // namespace airlock::audit

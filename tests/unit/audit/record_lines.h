#pragma once
// Records for the query/stats/report unit tests: lines in the form airlockd writes them, built
// from a few fields, parsed by the real parseRecordLine.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "audit/record_reader.h"

namespace airlock::audit::testing {

// A decision record of `unit`'s `event` at `time`, with `args`.
inline nlohmann::ordered_json decisionJson(uint64_t seq, const std::string& time,
                                           const std::string& event, const std::string& unit,
                                           const std::string& decision, const std::string& rule,
                                           nlohmann::ordered_json args) {
  return {{"seq", seq},       {"time", time},         {"event", event},
          {"prev", std::string(64, '0')}, {"unit", unit}, {"caller", "client:web,uid:1000"},
          {"args", args},     {"decision", decision}, {"rule", rule},
          {"result", decision == "allow" ? "ok" : "refused"}};
}

inline LoggedRecord parsed(const nlohmann::ordered_json& json) {
  std::string why;
  KJ_IF_MAYBE(record, parseRecordLine("audit.jsonl", json.value("seq", 0u), json.dump(), why)) {
    return kj::mv(*record);
  }
  ADD_FAILURE() << "not a record (" << why << "): " << json.dump();
  return LoggedRecord{};
}

inline LoggedRecord fsOpen(uint64_t seq, const std::string& time, const std::string& path,
                           const std::string& decision, const std::string& unit = "thumbnailer") {
  return parsed(decisionJson(seq, time, "fs.open", unit, decision,
                             decision == "allow" ? "images-read" : "default-deny",
                             {{"path", path}, {"mode", "read"}}));
}

}  // namespace airlock::audit::testing

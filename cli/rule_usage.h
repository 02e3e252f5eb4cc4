#pragma once
// What `airlock audit unused` finds: for each unit of a policy set, how often each of its rules
// decided something in audit logs, and the allow rules whose grant is far wider than what was
// used — the evidence a security team tightens a policy from (AWS IAM Access Analyzer's "unused
// access", for airlock's rules).
//
// A rule is used by a record naming its unit and its id in "rule" (every decision names the rule
// that decided). An fs.* allow rule whose grant is a tree (ROOT/**) is over-broad when every
// path it allowed lies in one directory below ROOT: the narrower grant is that directory's
// tree. A call or invoke rule allowing every method ("*") names the methods that were called.
//
// Memory is bounded: at most MAX_METHODS distinct methods are kept per rule; paths are folded
// into their common directory as they come. One thread at a time.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "audit/record_reader.h"
#include "broker/policy/model/policy.h"

namespace airlock::cli {

struct RuleUse {
  uint64_t decisions = 0, allowed = 0, denied = 0;
  uint64_t firstSeq = 0, lastSeq = 0;
  std::optional<std::string> commonDirectory;  // of the paths it allowed (fs.* rules)
  std::set<std::string> methods;               // called under it (call and invoke rules)
  bool moreMethods = false;                    // past MAX_METHODS
};

class RuleUsage {
 public:
  static constexpr size_t MAX_METHODS = 50;

  // Borrows `units` for its lifetime.
  explicit RuleUsage(const std::vector<policy::UnitPolicy>& units) : units_(units) {}

  void add(const audit::LoggedRecord& record);

  // The findings, unit by unit in the policy's order, as text lines (printable ASCII only).
  std::vector<std::string> describe() const;
  nlohmann::json toJson() const;

  uint64_t records() const { return records_; }

 private:
  struct Finding {
    std::string kind;  // "unused", "over-broad", "used"
    const policy::Rule* rule;
    std::string text;
    std::string suggestion;  // a narrower grant; empty if none
  };
  std::vector<Finding> findings(const policy::UnitPolicy& unit) const;
  std::string period() const;

  const std::vector<policy::UnitPolicy>& units_;
  std::map<std::pair<std::string, std::string>, RuleUse> uses_;  // by unit and rule id
  uint64_t records_ = 0, firstSeq_ = 0, lastSeq_ = 0;
  int64_t firstMicros_ = 0, lastMicros_ = 0;
};

}  // namespace airlock::cli

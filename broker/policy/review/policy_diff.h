#pragma once
// What replacing one policy set by another changes, rule by rule: `airlock policy diff` shows it
// before a reload, with the same unit classification the reload itself uses (unit_changes.h).
// Pure; reads nothing.

#include <string>
#include <vector>

#include "broker/policy/load/policy_loader.h"
#include "broker/policy/review/unit_changes.h"

namespace airlock::policy {

struct RuleChange {
  enum Kind : uint8_t { ADDED, REMOVED, CHANGED } kind;
  std::string id;
  std::string before;  // summary (rule_summary.h) with file:line; empty for ADDED
  std::string after;   // empty for REMOVED
};

struct UnitDiff {
  std::string unit;
  enum Kind : uint8_t { ADDED, REMOVED, RESTARTED, CHANGED } kind;
  std::vector<std::string> settings;  // "instances: 1 -> 2", one per changed [unit]/[sandbox] key
  std::vector<RuleChange> rules;      // in new-file order, then removed ones in old-file order
};

struct PolicyDiff {
  std::string revisionBefore, revisionAfter;
  std::vector<UnitDiff> units;  // in unit-name order; unchanged units are left out
  std::vector<std::string> adminsAdded, adminsRemoved;

  bool empty() const { return units.empty() && adminsAdded.empty() && adminsRemoved.empty(); }
};

// Both sets must have loaded without errors.
PolicyDiff diffPolicies(const LoadResult& before, const LoadResult& after);

}  // namespace airlock::policy

#pragma once
// What `airlock audit stats` and `airlock audit report` count: records by unit, operation
// (event) and rule, each split into allowed and denied; the argument values of denied requests
// (the paths, names, methods, hosts... workers and hosts were refused); whole denied requests
// with the rule that denied them; and decisions per time bucket.
//
// Memory is bounded: each table keeps at most MAX_DISTINCT keys (a hostile worker can make
// every denied path different); records past that are counted in its `otherRecords`.
// One thread at a time.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "audit/record_reader.h"

namespace airlock::audit {

struct Tally {
  uint64_t records = 0;
  uint64_t allowed = 0;  // records with "decision": "allow"
  uint64_t denied = 0;   // ... "deny"

  void add(const LoggedRecord& record);
};

// A table of tallies by key, keeping at most MAX_DISTINCT keys.
struct TallyTable {
  static constexpr size_t MAX_DISTINCT = 100000;
  std::map<std::string, Tally> byKey;
  uint64_t otherRecords = 0;  // records whose key came after the table was full

  void add(const std::string& key, const LoggedRecord& record);
  // The keys with the most denials (ties: the key's order), at most `count`, none with 0.
  std::vector<std::pair<std::string, uint64_t>> topDenied(size_t count) const;
};

// Counts by a key, then by a name (a call outcome, an exit cause), keeping at most
// TallyTable::MAX_DISTINCT keys; records past that are counted in `otherRecords`.
struct CountsTable {
  std::map<std::string, std::map<std::string, uint64_t>> byKey;
  uint64_t otherRecords = 0;

  void add(const std::string& key, std::string_view name);
  nlohmann::json toJson() const;
};

// One bucket of the rate over time.
struct TimeBucket {
  int64_t startMicros = 0;
  uint64_t decisions = 0, allowed = 0, denied = 0;
};

// A denied request, as the report lists it.
struct DeniedRequest {
  std::string unit, event, rule;
  std::string args;  // the "args" object as compact JSON
  uint64_t count = 0;
  int64_t lastMicros = 0;
};

// What the calls of one caller to one unit cost: how many `call` records carried a worker's
// CPU time ("cpu_us"), and its sum.
struct CpuCost {
  uint64_t calls = 0;
  uint64_t cpuMicros = 0;
};

class RecordStats {
 public:
  // `bucketMicros`: the width of the rate buckets (> 0).
  explicit RecordStats(int64_t bucketMicros);

  void add(const LoggedRecord& record);

  uint64_t records() const { return totals_.records; }
  const Tally& totals() const { return totals_; }
  int64_t firstMicros() const { return firstMicros_; }  // 0 if no record
  int64_t lastMicros() const { return lastMicros_; }
  int64_t bucketMicros() const { return bucketMicros_; }
  const TallyTable& byUnit() const { return byUnit_; }  // records that name a unit
  const TallyTable& byOperation() const { return byOperation_; }
  const TallyTable& byRule() const { return byRule_; }  // records that name a rule
  // How calls ended (record_outcome.h: ok, denied, crashed, timed-out, ...), from their `call`
  // records, by unit and by caller: apart from the decision, so an allowed call that crashed
  // counts as crashed. An invoke is counted once, by its callee's `call` record.
  const CountsTable& outcomesByUnit() const { return outcomesByUnit_; }
  const CountsTable& outcomesByCaller() const { return outcomesByCaller_; }
  // Why workers stopped (record_outcome.h: crashed, shutdown, deadline, ...), by unit.
  const CountsTable& exitsByUnit() const { return exitsByUnit_; }
  // Denied records' string argument values, by argument name ("path", "host", "name", ...).
  const std::map<std::string, TallyTable>& deniedArgs() const { return deniedArgs_; }
  // Buckets with at least one decision, in time order, `widthMicros` wide: a multiple of
  // bucketMicros() (KJ_REQUIRE), so buckets merge exactly.
  std::vector<TimeBucket> buckets(int64_t widthMicros) const;
  // The most frequent denied requests, most first, at most `count`.
  std::vector<DeniedRequest> topDeniedRequests(size_t count) const;

  // Worker CPU time of `call` records, by unit and then caller; at most MAX_DISTINCT pairs (the
  // rest in otherCpuCalls()).
  const std::map<std::pair<std::string, std::string>, CpuCost>& cpuByUnitAndCaller() const {
    return cpuByUnitAndCaller_;
  }
  uint64_t otherCpuCalls() const { return otherCpuCalls_; }

  // Everything above for scripts; `top` bounds each list of denied values. See docs/cli.md.
  nlohmann::json toJson(size_t top) const;

 private:
  int64_t bucketMicros_;
  Tally totals_;
  int64_t firstMicros_ = 0, lastMicros_ = 0;
  TallyTable byUnit_, byOperation_, byRule_;
  CountsTable outcomesByUnit_, outcomesByCaller_, exitsByUnit_;
  std::map<std::string, TallyTable> deniedArgs_;
  std::map<int64_t, TimeBucket> buckets_;
  std::map<std::string, DeniedRequest> deniedRequests_;  // by unit, event, rule and args
  uint64_t otherDeniedRequests_ = 0;
  std::map<std::pair<std::string, std::string>, CpuCost> cpuByUnitAndCaller_;
  uint64_t otherCpuCalls_ = 0;

  void addCpuCost(const LoggedRecord& record);
};

}  // namespace airlock::audit

#include "audit/record_stats.h"

#include <kj/debug.h>

#include <algorithm>

#include "audit/audit_log.h"
#include "audit/record_outcome.h"

namespace airlock::audit {

namespace _ {

int64_t floorTo(int64_t micros, int64_t width) {
  int64_t quotient = micros / width;
  if (micros % width != 0 && micros < 0) --quotient;
  return quotient * width;
}

nlohmann::json tallyJson(const Tally& tally) {
  return {{"records", tally.records}, {"allowed", tally.allowed}, {"denied", tally.denied}};
}

nlohmann::json tableJson(const TallyTable& table) {
  nlohmann::json out = nlohmann::json::object();
  for (auto& [key, tally] : table.byKey) out[key] = tallyJson(tally);
  return out;
}

}  // namespace _

void Tally::add(const LoggedRecord& record) {
  ++records;
  if (record.decision == "allow") ++allowed;
  if (record.decision == "deny") ++denied;
}

void TallyTable::add(const std::string& key, const LoggedRecord& record) {
  auto found = byKey.find(key);
  if (found == byKey.end()) {
    if (byKey.size() >= MAX_DISTINCT) {
      ++otherRecords;
      return;
    }
    found = byKey.emplace(key, Tally{}).first;
  }
  found->second.add(record);
}

std::vector<std::pair<std::string, uint64_t>> TallyTable::topDenied(size_t count) const {
  std::vector<std::pair<std::string, uint64_t>> top;
  for (auto& [key, tally] : byKey) {
    if (tally.denied > 0) top.emplace_back(key, tally.denied);
  }
  std::stable_sort(top.begin(), top.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (top.size() > count) top.resize(count);
  return top;
}

void CountsTable::add(const std::string& key, std::string_view name) {
  auto found = byKey.find(key);
  if (found == byKey.end()) {
    if (byKey.size() >= TallyTable::MAX_DISTINCT) {
      ++otherRecords;
      return;
    }
    found = byKey.emplace(key, std::map<std::string, uint64_t>{}).first;
  }
  ++found->second[std::string(name)];
}

nlohmann::json CountsTable::toJson() const {
  nlohmann::json out = nlohmann::json::object();
  for (auto& [key, counts] : byKey) out[key] = counts;
  return out;
}

RecordStats::RecordStats(int64_t bucketMicros) : bucketMicros_(bucketMicros) {
  KJ_REQUIRE(bucketMicros > 0, "a time bucket must have a width", bucketMicros);
}

void RecordStats::add(const LoggedRecord& record) {
  if (totals_.records == 0 || record.timeMicros < firstMicros_) firstMicros_ = record.timeMicros;
  if (totals_.records == 0 || record.timeMicros > lastMicros_) lastMicros_ = record.timeMicros;
  totals_.add(record);
  if (!record.unit.empty()) byUnit_.add(record.unit, record);
  byOperation_.add(record.event, record);
  if (!record.rule.empty()) byRule_.add(record.rule, record);
  addCpuCost(record);
  if (record.event == "call") {
    KJ_IF_MAYBE(outcome, callOutcome(record)) {
      outcomesByUnit_.add(record.unit, *outcome);
      outcomesByCaller_.add(record.caller, *outcome);
    }
  }
  KJ_IF_MAYBE(cause, exitCause(record)) { exitsByUnit_.add(record.unit, *cause); }
  if (record.decision.empty()) return;

  auto& bucket = buckets_[_::floorTo(record.timeMicros, bucketMicros_)];
  bucket.startMicros = _::floorTo(record.timeMicros, bucketMicros_);
  ++bucket.decisions;
  if (record.decision == "allow") ++bucket.allowed;
  if (record.decision != "deny") return;
  ++bucket.denied;

  for (auto& [name, value] : record.args().items()) {
    if (value.is_string()) deniedArgs_[name].add(value.get<std::string>(), record);
  }
  std::string args = record.args().dump();
  // Unit, event and rule cannot hold a NUL (JSON text would escape it), so the key is unique.
  std::string key = record.unit + '\0' + record.event + '\0' + record.rule + '\0' + args;
  auto found = deniedRequests_.find(key);
  if (found == deniedRequests_.end()) {
    if (deniedRequests_.size() >= TallyTable::MAX_DISTINCT) {
      ++otherDeniedRequests_;
      return;
    }
    found = deniedRequests_
                .emplace(key, DeniedRequest{record.unit, record.event, record.rule, args})
                .first;
  }
  ++found->second.count;
  found->second.lastMicros = std::max(found->second.lastMicros, record.timeMicros);
}

void RecordStats::addCpuCost(const LoggedRecord& record) {
  if (record.event != "call") return;
  auto found = record.json.find("cpu_us");
  if (found == record.json.end() || !found->is_number_unsigned()) return;
  std::pair<std::string, std::string> key{record.unit, record.caller};
  auto cost = cpuByUnitAndCaller_.find(key);
  if (cost == cpuByUnitAndCaller_.end()) {
    if (cpuByUnitAndCaller_.size() >= TallyTable::MAX_DISTINCT) {
      ++otherCpuCalls_;
      return;
    }
    cost = cpuByUnitAndCaller_.emplace(kj::mv(key), CpuCost{}).first;
  }
  ++cost->second.calls;
  cost->second.cpuMicros += found->get<uint64_t>();
}

std::vector<TimeBucket> RecordStats::buckets(int64_t widthMicros) const {
  KJ_REQUIRE(widthMicros > 0 && widthMicros % bucketMicros_ == 0,
             "buckets merge only into a multiple of their width", widthMicros, bucketMicros_);
  std::vector<TimeBucket> merged;
  for (auto& [start, bucket] : buckets_) {
    int64_t mergedStart = _::floorTo(start, widthMicros);
    if (merged.empty() || merged.back().startMicros != mergedStart) {
      merged.push_back(TimeBucket{mergedStart, 0, 0, 0});
    }
    merged.back().decisions += bucket.decisions;
    merged.back().allowed += bucket.allowed;
    merged.back().denied += bucket.denied;
  }
  return merged;
}

std::vector<DeniedRequest> RecordStats::topDeniedRequests(size_t count) const {
  std::vector<DeniedRequest> top;
  for (auto& [key, request] : deniedRequests_) top.push_back(request);
  std::stable_sort(top.begin(), top.end(),
                   [](const auto& a, const auto& b) { return a.count > b.count; });
  if (top.size() > count) top.resize(count);
  return top;
}

nlohmann::json RecordStats::toJson(size_t top) const {
  nlohmann::json out = _::tallyJson(totals_);
  if (totals_.records > 0) {
    out["first"] = AuditLog::formatTime(firstMicros_);
    out["last"] = AuditLog::formatTime(lastMicros_);
  }
  out["by_unit"] = _::tableJson(byUnit_);
  out["by_operation"] = _::tableJson(byOperation_);
  out["by_rule"] = _::tableJson(byRule_);
  out["call_outcomes"] = {{"by_unit", outcomesByUnit_.toJson()},
                          {"by_caller", outcomesByCaller_.toJson()}};
  out["worker_exits"] = {{"by_unit", exitsByUnit_.toJson()}};
  out["top_denied"] = nlohmann::json::object();
  for (auto& [name, table] : deniedArgs_) {
    auto& list = out["top_denied"][name] = nlohmann::json::array();
    for (auto& [value, denied] : table.topDenied(top)) {
      list.push_back({{"value", value}, {"denied", denied}});
    }
  }
  nlohmann::json buckets = nlohmann::json::array();
  for (auto& bucket : this->buckets(bucketMicros_)) {
    buckets.push_back({{"start", AuditLog::formatTime(bucket.startMicros)},
                       {"decisions", bucket.decisions},
                       {"allowed", bucket.allowed},
                       {"denied", bucket.denied}});
  }
  out["rate"] = {{"bucket_seconds", bucketMicros_ / 1000000}, {"buckets", buckets}};
  nlohmann::json cpu = nlohmann::json::array();
  for (auto& [key, cost] : cpuByUnitAndCaller_) {
    cpu.push_back({{"unit", key.first}, {"caller", key.second}, {"calls", cost.calls},
                   {"cpu_us", cost.cpuMicros}});
  }
  out["cpu_by_unit_and_caller"] = cpu;
  return out;
}

}  // namespace airlock::audit

#include "cli/audit_stats.h"

#include <array>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "audit/record_outcome.h"
#include "audit/record_stats.h"
#include "audit/record_time.h"
#include "broker/policy/model/printable.h"
#include "cli/audit_args.h"

namespace airlock::cli {

namespace _ {

constexpr std::string_view STATS_USAGE = R"(
usage: airlock audit stats FILE... [filters] [--bucket DURATION] [--top N] [--json]

Counts the records of audit log FILE... (a rotation set in the order given, oldest first):
by unit, by operation (event), by decision and by rule, each split into allowed and denied;
the argument values denied most often (paths, hosts, secret names, methods, ...); the CPU
time workers spent on calls, by unit and caller; the decisions per time bucket (the rate over
time); how calls ended, by unit and by caller, apart from their decision (an allowed call that
crashed counts as crashed); and why workers stopped, by unit, a crash told apart from an exit
airlockd caused (shutdown, reload, parked, deadline).

options:
  --bucket DURATION   width of the rate buckets: 90s, 1m, 15m, 1h, 1d (default 1m)
  --top N             how many of the most denied values to list per argument (default 10)
  --json              one JSON object for scripts (see docs/cli.md) instead of text
  -h, --help          print this help
  filters             those of `airlock audit query` (--unit, --op, --event, --call-id,
                      --decision, --rule, --result, --caller, --since, --until, --grep): only
                      matching records are counted

Malformed lines are reported on stderr as FILE:LINE: malformed record: why, and skipped.

exit status: 0 if every line was read, 1 if a file cannot be read or a line is malformed,
2 on a usage error.
)";

constexpr int64_t DEFAULT_BUCKET_MICROS = 60 * 1000000LL;
constexpr size_t DEFAULT_TOP = 10;

std::string shown(const std::string& text) { return policy::printable(text, 120); }

void printTable(const char* title, const audit::TallyTable& table) {
  printf("\nby %-30s %10s %10s %10s\n", title, "records", "allowed", "denied");
  for (auto& [key, tally] : table.byKey) {
    printf("  %-30s %10lu %10lu %10lu\n", shown(key).c_str(), tally.records, tally.allowed,
           tally.denied);
  }
  if (table.otherRecords > 0) printf("  (%lu records of further keys)\n", table.otherRecords);
}

// One row per key, one column per name of `names`, then a column of the rest.
template <size_t N>
void printCounts(const char* title, const audit::CountsTable& table,
                 const std::array<std::string_view, N>& names) {
  printf("\n%s\n  %-30s", title, "");
  for (auto name : names) printf(" %9.*s", int(name.size()), name.data());
  printf("\n");
  for (auto& [key, counts] : table.byKey) {
    printf("  %-30s", shown(key.empty() ? "-" : key).c_str());
    for (auto name : names) {
      auto found = counts.find(std::string(name));
      printf(" %9lu", found == counts.end() ? 0UL : found->second);
    }
    printf("\n");
  }
  if (table.otherRecords > 0) printf("  (%lu records of further keys)\n", table.otherRecords);
}

void printText(const audit::RecordStats& stats, size_t top, const std::string& bucketText) {
  auto& totals = stats.totals();
  printf("records: %lu (%lu allowed, %lu denied)", totals.records, totals.allowed,
         totals.denied);
  if (totals.records > 0) {
    printf(", %s to %s", audit::AuditLog::formatTime(stats.firstMicros()).c_str(),
           audit::AuditLog::formatTime(stats.lastMicros()).c_str());
  }
  printf("\n");
  printTable("unit", stats.byUnit());
  printTable("operation", stats.byOperation());
  printTable("rule", stats.byRule());
  printCounts("call outcomes by unit", stats.outcomesByUnit(), audit::CALL_OUTCOMES);
  printCounts("call outcomes by caller", stats.outcomesByCaller(), audit::CALL_OUTCOMES);
  printCounts("worker exits by unit (exited, failed, crashed: by itself; the rest: airlockd)",
              stats.exitsByUnit(), audit::EXIT_CAUSES);
  for (auto& [name, table] : stats.deniedArgs()) {
    printf("\nmost denied %s\n", shown(name).c_str());
    for (auto& [value, denied] : table.topDenied(top)) {
      printf("  %10lu  %s\n", denied, shown(value).c_str());
    }
  }
  if (!stats.cpuByUnitAndCaller().empty()) {
    printf("\nworker cpu time of calls, by unit and caller\n");
    for (auto& [key, cost] : stats.cpuByUnitAndCaller()) {
      printf("  %-20s %-30s %10lu calls %12.3f s\n", shown(key.first).c_str(),
             shown(key.second).c_str(), cost.calls, cost.cpuMicros / 1e6);
    }
    if (stats.otherCpuCalls() > 0) {
      printf("  (%lu calls of further units and callers)\n", stats.otherCpuCalls());
    }
  }
  printf("\ndecisions per %s\n", bucketText.c_str());
  for (auto& bucket : stats.buckets(stats.bucketMicros())) {
    printf("  %s %10lu decisions %10lu allowed %10lu denied\n",
           audit::AuditLog::formatTime(bucket.startMicros).c_str(), bucket.decisions,
           bucket.allowed, bucket.denied);
  }
}

}  // namespace _

int auditStatsMain(int argc, char** argv) {
  AuditArgs args("stats", _::STATS_USAGE, argc, argv);
  audit::RecordFilter filter;
  std::vector<std::string> files;
  bool json = false;
  int64_t bucketMicros = _::DEFAULT_BUCKET_MICROS;
  std::string bucketText = "1m";
  size_t top = _::DEFAULT_TOP;
  int status = walkFilteredArgs(args, filter, files, [&](AuditArgs& args) {
    if (args.arg() == "--json") {
      json = true;
      return OptionParse::TAKEN;
    }
    if (args.arg() != "--bucket" && args.arg() != "--top") return OptionParse::NOT_MINE;
    std::string option(args.arg()), value;
    KJ_IF_MAYBE(given, args.value()) { value = *given; } else { return OptionParse::FAILED; }
    if (option == "--bucket") {
      KJ_IF_MAYBE(micros, audit::parseDurationMicros(value)) {
        bucketMicros = *micros;
        bucketText = value;
        return OptionParse::TAKEN;
      }
      args.usageError("--bucket \"" + value + "\" is not a duration (90s, 1m, 1h, 1d)");
      return OptionParse::FAILED;
    }
    if (value.empty() || value.size() > 6 ||
        value.find_first_not_of("0123456789") != std::string::npos) {
      args.usageError("--top \"" + value + "\" is not a number from 0 to 999999");
      return OptionParse::FAILED;
    }
    top = std::stoul(value);
    return OptionParse::TAKEN;
  });
  if (status >= 0) return status;

  audit::RecordStats stats(bucketMicros);
  auto outcome = readRecords(files, filter,
                             [&stats](const audit::LoggedRecord& record) { stats.add(record); });
  if (outcome.unreadable) return 1;
  if (json) {
    auto out = stats.toJson(top);
    out["malformed_lines"] = outcome.malformed;
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    _::printText(stats, top, bucketText);
    if (outcome.malformed > 0) printf("\nmalformed lines: %lu (see stderr)\n", outcome.malformed);
  }
  return outcome.ok() ? 0 : 1;
}

}  // namespace airlock::cli

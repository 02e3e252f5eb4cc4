#include "cli/audit_export.h"

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "audit/ocsf_export.h"
#include "cli/audit_args.h"

namespace airlock::cli {

namespace _ {

constexpr std::string_view EXPORT_USAGE = R"(
usage: airlock audit export --format ocsf FILE... [filters]

Prints the records of audit log FILE... (a rotation set in the order given, oldest first) that
match the filters as Open Cybersecurity Schema Framework (OCSF 1.3.0) events, one JSON object a
line, for a SIEM: calls, invokes, authentications, admin requests, reloads and secrets.get as
API Activity (class_uid 6003); fs.* as File System Activity (1001); net.connect as Network
Activity (4001); worker.spawn, worker.exit and syscall.refused as Process Activity (1007). Each
event keeps the chain: metadata.sequence is the record's seq, metadata.uid the hash of its line
(the next record's prev), and unmapped.airlock its seq, prev, hash, event, decision fields and
args, so an exported event traces back to the signed log. Run airlock audit verify on the log
first: export does not verify it.

options:
  --format ocsf       the output format (required; the only one)
  -h, --help          print this help
  filters             those of `airlock audit query` (--unit, --op, --event, --call-id,
                      --decision, --rule, --result, --caller, --since, --until, --grep)

Malformed lines are reported on stderr as FILE:LINE: malformed record: why, and skipped.

exit status: 0 if every line was read, 1 if a file cannot be read or a line is malformed,
2 on a usage error.
)";

}  // namespace _

int auditExportMain(int argc, char** argv) {
  AuditArgs args("export", _::EXPORT_USAGE, argc, argv);
  audit::RecordFilter filter;
  std::vector<std::string> files;
  bool formatGiven = false;
  int status = walkFilteredArgs(args, filter, files, [&formatGiven](AuditArgs& args) {
    if (args.arg() != "--format") return OptionParse::NOT_MINE;
    std::string format;
    KJ_IF_MAYBE(value, args.value()) { format = *value; } else { return OptionParse::FAILED; }
    if (format != "ocsf") {
      args.usageError("--format is ocsf, not \"" + format + "\"");
      return OptionParse::FAILED;
    }
    formatGiven = true;
    return OptionParse::TAKEN;
  });
  if (status >= 0) return status;
  if (!formatGiven) return args.usageError("--format ocsf is required");
  auto outcome = readRecords(files, filter, [](const audit::LoggedRecord& record) {
    std::cout << audit::toOcsf(record).dump(-1, ' ', false,
                                            nlohmann::ordered_json::error_handler_t::replace)
              << '\n';
  });
  std::cout.flush();
  return outcome.ok() ? 0 : 1;
}

}  // namespace airlock::cli

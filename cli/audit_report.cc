#include "cli/audit_report.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "audit/html_report.h"
#include "audit/report_model.h"
#include "audit/verifier.h"
#include "cli/audit_args.h"
#include "cli/broker_logs.h"

namespace airlock::cli {

namespace _ {

constexpr std::string_view REPORT_USAGE = R"(
usage: airlock audit report --html OUT.html FILE... [--key PUB] [--anchor CHECKPOINTS]
                           [--require-closed]
       airlock audit report --html OUT.html [--require-closed] --broker NAME [--key PUB]
                           [--anchor CHECKPOINTS] FILE... [--broker NAME ...]...

Writes one self-contained HTML page (no network fetches: styles, script and chart are inline)
about the audit log FILE... (a rotation set in the order given, oldest first):
  - the result of `airlock audit verify` on it (with --key and --anchor as there), first;
  - a summary per unit: records, allowed, denied; how its calls ended (ok, crashed, timed-out,
    out-of-memory, denied, busy, other), counted apart from the decisions; worker spawns,
    crashes, stops airlockd caused (shutdown, reload, parked unit, deadline) and sandbox
    violations; and how each caller's calls ended;
  - denials over time, as a bar chart;
  - the most frequent denied requests, with the rule that denied them;
  - lifecycle events (broker start and stop, worker spawns and exits, log rate limits, log
    rotations) and sandbox violations (workers killed for a refused syscall, failed sandbox
    setups).
Every text taken from the log is escaped: it shows as text and never runs.

One page for a fleet: give each broker's --key, --anchor and files after --broker NAME, as for
`airlock audit verify`; each broker's log is verified with its own key, the verification lines
name their broker, and its units are shown as NAME/UNIT.

options:
  --html OUT.html       where to write the page (required; replaced if it exists)
  --broker NAME         begins the options and files of broker NAME (a fleet)
  --key PUB             public key file from `airlock keygen`, as for `airlock audit verify`
  --anchor CHECKPOINTS  the anchor file airlockd --anchor wrote, as for `airlock audit verify`
  --require-closed      as for `airlock audit verify`: a log not closed by a closing checkpoint
                        fails; without it, a running broker's log shows its unsigned tail
  -h, --help            print this help

Verification problems and malformed lines are also printed on stderr as FILE:LINE: what.

exit status: 0 if the page was written and the log verified with every line read; 1 if it
failed verification or has malformed lines (the page is still written, and says so), or a
file cannot be read or OUT.html cannot be written (no page); 2 on a usage error.
)";

// The one place that verifies: each broker's files as one log (a rotation set is chained across
// files), with its key and anchor; a fleet's lines name their broker.
audit::VerificationOutcome verifyForReport(const std::vector<BrokerLogs>& brokers,
                                           bool requireClosed, bool& keyUnreadable) {
  audit::VerificationOutcome outcome{true, {}};
  for (auto& broker : brokers) {
    std::string prefix = broker.name.empty() ? "" : broker.name + ": ";
    audit::VerifyOptions options;
    std::string error;
    if (!verifyOptionsFor(broker, requireClosed, options, error)) {
      std::cerr << "airlock audit report: " << prefix << error << "\n";
      keyUnreadable = true;
      return outcome;
    }
    auto report = audit::verifyLog(options);
    outcome.ok = outcome.ok && report.ok();
    if (report.ok()) outcome.lines.push_back(prefix + report.summary());
    for (auto& problem : report.problems) outcome.lines.push_back(prefix + problem.describe());
    if (report.problemsOmitted > 0) {
      outcome.lines.push_back(prefix + std::to_string(report.problemsOmitted) +
                              " more problems not listed");
    }
  }
  return outcome;
}

bool writeFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  return !out.fail();
}

}  // namespace _

int auditReportMain(int argc, char** argv) {
  AuditArgs args("report", _::REPORT_USAGE, argc, argv);
  std::vector<BrokerLogs> brokers;
  std::string htmlPath, error;
  bool requireClosed = false, help = false;
  bool parsed = parseBrokerLogs(argc, argv, brokers, error, [&](int& i, std::string& why) {
    std::string_view option = argv[i];
    if (option == "-h" || option == "--help") return help = true;
    if (option == "--require-closed") return requireClosed = true;
    if (option != "--html") return false;
    if (i + 1 >= argc) {
      why = "--html needs a value";
      return false;
    }
    htmlPath = argv[++i];
    return true;
  });
  if (help) return args.printHelp();
  if (!parsed) return args.usageError(error);
  if (htmlPath.empty()) return args.usageError("--html OUT.html is required");

  bool keyUnreadable = false;
  auto verification = _::verifyForReport(brokers, requireClosed, keyUnreadable);
  if (keyUnreadable) return 1;
  std::vector<std::string> files;
  for (auto& broker : brokers) files.insert(files.end(), broker.files.begin(), broker.files.end());
  audit::ReportModel model(files, kj::mv(verification));
  ReadOutcome outcome;
  for (auto& broker : brokers) {
    // A fleet's units are told apart by their broker: "web-1/thumbnailer".
    std::string prefix = broker.name.empty() ? "" : broker.name + "/";
    auto read = readRecords(broker.files, audit::RecordFilter{},
                            [&model, &prefix](const audit::LoggedRecord& record) {
                              if (prefix.empty() || record.unit.empty()) return model.add(record);
                              audit::LoggedRecord named = record;
                              named.unit = prefix + record.unit;
                              model.add(named);
                            });
    outcome.unreadable |= read.unreadable;
    outcome.malformed += read.malformed;
  }
  if (outcome.unreadable) return 1;
  model.setMalformedLines(outcome.malformed);
  if (!model.verification().ok) {
    for (auto& line : model.verification().lines) std::cerr << line << "\n";
  }
  if (!_::writeFile(htmlPath, audit::renderReportHtml(model))) {
    std::cerr << htmlPath << ": cannot write: " << strerror(errno) << "\n";
    return 1;
  }
  std::cout << "wrote " << htmlPath << " (" << model.stats().records() << " records; "
            << (model.verification().ok ? "verified" : "verification FAILED") << ")\n";
  return model.verification().ok && outcome.ok() ? 0 : 1;
}

}  // namespace airlock::cli

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

namespace airlock::cli {

namespace _ {

constexpr std::string_view REPORT_USAGE = R"(
usage: airlock audit report --html OUT.html FILE... [--key PUB] [--anchor CHECKPOINTS]

Writes one self-contained HTML page (no network fetches: styles, script and chart are inline)
about the audit log FILE... (a rotation set in the order given, oldest first):
  - the result of `airlock audit verify` on it (with --key and --anchor as there), first;
  - a summary per unit: records, allowed, denied, worker spawns and exits, sandbox violations;
  - denials over time, as a bar chart;
  - the most frequent denied requests, with the rule that denied them;
  - lifecycle events (broker start and stop, worker spawns and exits, log rate limits, log
    rotations) and sandbox violations (workers killed for a refused syscall, failed sandbox
    setups).
Every text taken from the log is escaped: it shows as text and never runs.

options:
  --html OUT.html       where to write the page (required; replaced if it exists)
  --key PUB             public key file from `airlock keygen`, as for `airlock audit verify`
  --anchor CHECKPOINTS  the anchor file airlockd --anchor wrote, as for `airlock audit verify`
  -h, --help            print this help

Verification problems and malformed lines are also printed on stderr as FILE:LINE: what.

exit status: 0 if the page was written and the log verified with every line read; 1 if it
failed verification or has malformed lines (the page is still written, and says so), or a
file cannot be read or OUT.html cannot be written (no page); 2 on a usage error.
)";

// The one place that verifies: the files as one log (a rotation set is chained across files).
audit::VerificationOutcome verifyForReport(const std::vector<std::string>& files,
                                           kj::Maybe<audit::PublicKey> key,
                                           const std::string& anchorPath) {
  audit::VerifyOptions options;
  options.logPaths = files;
  options.trustedKey = key;
  options.anchorPath = anchorPath;
  auto report = audit::verifyLog(options);
  audit::VerificationOutcome outcome{report.ok(), {}};
  if (report.ok()) outcome.lines.push_back(report.summary());
  for (auto& problem : report.problems) outcome.lines.push_back(problem.describe());
  if (report.problemsOmitted > 0) {
    outcome.lines.push_back(std::to_string(report.problemsOmitted) + " more problems not listed");
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
  std::vector<std::string> files;
  std::string htmlPath, keyPath, anchorPath;
  while (args.next()) {
    if (args.isHelp()) return args.printHelp();
    std::string_view option = args.arg();
    if (option == "--html" || option == "--key" || option == "--anchor") {
      std::string& target =
          option == "--html" ? htmlPath : option == "--key" ? keyPath : anchorPath;
      KJ_IF_MAYBE(value, args.value()) { target = *value; } else { return 2; }
    } else if (args.isOption()) {
      return args.usageError("unknown option " + std::string(option));
    } else {
      files.emplace_back(option);
    }
  }
  if (htmlPath.empty()) return args.usageError("--html OUT.html is required");
  if (files.empty()) return args.usageError("FILE is required");
  kj::Maybe<audit::PublicKey> key;
  if (!keyPath.empty()) {
    std::string error;
    KJ_IF_MAYBE(loaded, audit::loadPublicKey(keyPath, error)) {
      key = *loaded;
    } else {
      std::cerr << "airlock audit report: --key " << error << "\n";
      return 1;
    }
  }

  audit::ReportModel model(files, _::verifyForReport(files, key, anchorPath));
  auto outcome = readRecords(files, audit::RecordFilter{},
                             [&model](const audit::LoggedRecord& record) { model.add(record); });
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

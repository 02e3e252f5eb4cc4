#pragma once
// `airlock audit report`: one self-contained HTML page about audit log files: whether they
// verify, a summary per unit, denials over time, the most frequent denied requests and the
// lifecycle and sandbox-violation events.

namespace airlock::cli {

// argv[0] is "report". Writes the page to --html OUT (replacing it). Returns the exit status:
// 0 the page was written and the log verified with every line read; 1 it failed verification
// or has malformed lines (the page is still written and says so), or a file cannot be read or
// OUT cannot be written (no page); 2 usage error.
int auditReportMain(int argc, char** argv);

}  // namespace airlock::cli

// cli/main.cc dispatches to it unqualified.
using airlock::cli::auditReportMain;

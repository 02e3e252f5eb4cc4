#pragma once
// `airlock audit export --format ocsf`: the records of one or more audit log files as Open
// Cybersecurity Schema Framework events (audit/ocsf_export.h), one JSON object per line, for a
// SIEM.

namespace airlock::cli {

// argv[0] is "export". Returns the exit status: 0 every line read, 1 a file unreadable or a line
// malformed (reported on stderr as FILE:LINE; the rest are exported), 2 usage error.
int auditExportMain(int argc, char** argv);

}  // namespace airlock::cli

// cli/main.cc dispatches to it unqualified.
using airlock::cli::auditExportMain;

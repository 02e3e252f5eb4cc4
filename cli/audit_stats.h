#pragma once
// `airlock audit stats`: counts over one or more audit log files: by unit, operation, decision
// and rule, the most denied argument values (paths, hosts, names), and decisions per time
// bucket; as text or, with --json, for scripts.

namespace airlock::cli {

// argv[0] is "stats". Returns the exit status: 0 every line read, 1 a file unreadable or a line
// malformed (reported on stderr as FILE:LINE; the counts cover the rest), 2 usage error.
int auditStatsMain(int argc, char** argv);

}  // namespace airlock::cli

// cli/main.cc dispatches to it unqualified.
using airlock::cli::auditStatsMain;

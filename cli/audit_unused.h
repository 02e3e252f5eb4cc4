#pragma once
// `airlock audit unused --policies DIR LOG...`: per unit, the rules that decided nothing in the
// logs and the allow rules far wider than what was used, with the evidence (cli/rule_usage.h).

namespace airlock::cli {

// argv[0] is "unused". Returns the exit status: 0 the policies loaded and every line was read,
// 1 a policy error, an unreadable file or a malformed line (reported on stderr), 2 usage error.
int auditUnusedMain(int argc, char** argv);

}  // namespace airlock::cli

// cli/main.cc dispatches to it unqualified.
using airlock::cli::auditUnusedMain;

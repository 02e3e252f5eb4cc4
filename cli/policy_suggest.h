#pragma once
// `airlock policy suggest`: the narrowest rules that would have allowed what a unit was seen
// doing in audit logs (learn mode's records, or an enforcing run's denials), for a person to
// review and enforce.

namespace airlock::cli {

// argv[0] is "suggest"; the rest are its options. Prints the rules (or, with --policy, a diff
// against that file) on stdout. Returns the exit status: 0 when it printed a suggestion, 1 when
// a log or the policy cannot be read (or a line is malformed), 2 on a usage error.
int policySuggestMain(int argc, char** argv);

}  // namespace airlock::cli

// cli/main.cc dispatches to it unqualified.
using airlock::cli::policySuggestMain;

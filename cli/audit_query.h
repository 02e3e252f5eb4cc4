#pragma once
// `airlock audit query`: the records of one or more audit log files that match filters, as the
// exact lines (JSON Lines) or an aligned table.

namespace airlock::cli {

// argv[0] is "query". Prints matching records on stdout, each malformed line or unreadable file
// on stderr as "FILE:LINE: what". Returns the exit status: 0 all read, 1 a file unreadable or a
// line malformed (the records that could be read are still printed), 2 usage error.
int auditQueryMain(int argc, char** argv);

}  // namespace airlock::cli

// cli/main.cc dispatches to it unqualified.
using airlock::cli::auditQueryMain;

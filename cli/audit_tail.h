#pragma once
// `airlock audit tail`: the last records of an audit log, and with -f every record appended
// after them, across rotations, until SIGINT or SIGTERM.

namespace airlock::cli {

// argv[0] is "tail". Prints whole lines only, exactly as in the file. Returns the exit status:
// 0 done (with -f: stopped by SIGINT or SIGTERM), 1 the file cannot be read, 2 usage error.
// With -f it blocks SIGINT and SIGTERM in the calling thread to take them through a signalfd.
int auditTailMain(int argc, char** argv);

}  // namespace airlock::cli

// cli/main.cc dispatches to it unqualified.
using airlock::cli::auditTailMain;

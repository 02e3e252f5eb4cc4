#pragma once
// `airlock policy check`: lints policy files the way airlockd loads them.

namespace airlock::cli {

// argv[0] is "check"; the rest are its options and paths. Prints diagnostics ("file:line:col:
// message") and the per-path summary on stderr, "ok: ..." lines on stdout. Returns the process
// exit status: 0 all valid, 1 any error, 2 usage error. Reads only the named files/directories
// (and, with --workers, stats the workers).
int policyCheckMain(int argc, char** argv);

}  // namespace airlock::cli

// cli/main.cc dispatches to it unqualified.
using airlock::cli::policyCheckMain;

#pragma once
// `airlock audit verify`: checks an audit log's hash chain, sequence, signed checkpoints and
// anchor copy, and names every kind of tampering it finds (see docs/audit.md).

namespace airlock::cli {

// argv[0] is "verify". Prints "ok: ..." on stdout, or one "FILE:LINE: seq S: what" line per
// problem on stderr. Returns the exit status: 0 intact, 1 any problem (or an unreadable file),
// 2 usage error. Only reads the files named.
int auditVerifyMain(int argc, char** argv);

}  // namespace airlock::cli

// cli/main.cc dispatches to it unqualified.
using airlock::cli::auditVerifyMain;

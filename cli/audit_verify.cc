#include "cli/audit_verify.h"

#include <kj/common.h>

#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "audit/verifier.h"
#include "cli/broker_logs.h"

namespace airlock::cli {

namespace _ {

constexpr std::string_view VERIFY_USAGE = R"(
usage: airlock audit verify FILE... [--key PUB] [--anchor CHECKPOINTS] [--require-closed]
       airlock audit verify [--require-closed] --broker NAME [--key PUB] [--anchor CHECKPOINTS]
                            FILE... [--broker NAME ...]...

Checks that the audit log FILE is the log airlockd wrote: every line a whole record in the exact
form airlockd writes, seq 1, 2, 3, ... without gaps, every record's "prev" the BLAKE2b-256 of the
line before it, and every checkpoint's signature.

A log still being written (a running airlockd's) is checked up to its last signed checkpoint;
the records after it, not signed yet, are named on the ok line as the log's open tail, as are a
last line still being written and checkpoints the anchor does not have yet. A log that does not
end with a closing checkpoint is therefore not a problem unless --require-closed is given.

A log rotated by airlockd --audit-rotate-bytes is verified as one: give all its files, oldest
first (FILE.* FILE: the shell's glob order is that order). Each file after the first must
continue the one before it; a file missing from the set or given out of order is named.

Several brokers' logs are verified at once, each with its own key and anchor, by giving each
broker's group of options and files after --broker NAME; every output line then starts with
NAME: and the exit status is 1 if any broker's log fails.

options:
  --broker NAME         begins the options and files of broker NAME (a fleet); NAME is only
                        used to name its lines
  --key PUB             public key file from `airlock keygen` (PREFIX.pub): every checkpoint must
                        be signed by it, and there must be at least one. Without --key,
                        signatures are checked against the key each checkpoint names, which
                        proves nothing about who made them.
  --anchor CHECKPOINTS  the anchor file airlockd --anchor wrote (a copy kept off the host):
                        its checkpoints must be the log's, and none may be past the log's end
  --require-closed      the log must end with a closing checkpoint (airlockd stopped cleanly):
                        for a stopped broker's log, or one kept after rotation
  -h, --help            print this help

output:
  on success, on stdout:  ok: N records, M signed checkpoints, chain intact[, anchor matches]
                          and, for a log not closed, after it: ; open (still being written):
                          K records after the checkpoint at seq S not signed yet (seq A..B)
  each problem on stderr: FILE:LINE: seq S: what
  where "what" starts with the kind of tampering: modified record, deleted record(s),
  reordered records, inserted record, tail cut, not closed cleanly ("log ends N records after
  its last checkpoint; ..."; only with --require-closed), no checkpoint, bad signature, wrong
  key, anchor mismatch, malformed record, file missing, files out of order.

exit status: 0 if the log is intact, 1 if any problem was found or a file cannot be read,
2 on a usage error.
)";

int verifyUsageError(const std::string& message) {
  std::cerr << "airlock audit verify: " << message << "\n"
            << "usage: airlock audit verify FILE... [--key PUB] [--anchor CHECKPOINTS] "
               "[--require-closed]\n"
            << "try 'airlock audit verify --help'\n";
  return 2;
}

}  // namespace _

int auditVerifyMain(int argc, char** argv) {
  bool requireClosed = false;
  std::vector<BrokerLogs> brokers;
  std::string error;
  bool help = false;
  bool parsed = parseBrokerLogs(argc, argv, brokers, error, [&](int& i, std::string&) {
    std::string_view arg = argv[i];
    help |= arg == "-h" || arg == "--help";
    requireClosed |= arg == "--require-closed";
    return arg == "-h" || arg == "--help" || arg == "--require-closed";
  });
  if (help) {
    std::cout << _::VERIFY_USAGE.substr(1);
    return 0;
  }
  if (!parsed) return _::verifyUsageError(error);
  bool allOk = true;
  for (auto& broker : brokers) {
    // A fleet's lines name their broker: "web-1: ok: ...", "web-1: FILE:LINE: ...".
    std::string prefix = broker.name.empty() ? "" : broker.name + ": ";
    audit::VerifyOptions options;
    if (!verifyOptionsFor(broker, requireClosed, options, error)) {
      std::cerr << "airlock audit verify: " << prefix << error << "\n";
      return 1;
    }
    auto report = audit::verifyLog(options);
    if (!report.ok()) {
      for (auto& problem : report.problems) std::cerr << prefix << problem.describe() << "\n";
      allOk = false;
      continue;
    }
    std::cout << prefix << report.summary() << "\n";
  }
  return allOk ? 0 : 1;
}

}  // namespace airlock::cli

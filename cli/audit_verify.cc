#include "cli/audit_verify.h"

#include <kj/common.h>

#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "audit/verifier.h"

namespace airlock::cli {

namespace _ {

constexpr std::string_view VERIFY_USAGE = R"(
usage: airlock audit verify FILE... [--key PUB] [--anchor CHECKPOINTS]

Checks that the audit log FILE is the log airlockd wrote: every line a whole record in the exact
form airlockd writes, seq 1, 2, 3, ... without gaps, every record's "prev" the BLAKE2b-256 of the
line before it, every checkpoint's signature, and that the log ends with a closing checkpoint.

A log rotated by airlockd --audit-rotate-bytes is verified as one: give all its files, oldest
first (FILE.* FILE: the shell's glob order is that order). Each file after the first must
continue the one before it; a file missing from the set or given out of order is named.

options:
  --key PUB             public key file from `airlock keygen` (PREFIX.pub): every checkpoint must
                        be signed by it, and there must be at least one. Without --key,
                        signatures are checked against the key each checkpoint names, which
                        proves nothing about who made them.
  --anchor CHECKPOINTS  the anchor file airlockd --anchor wrote (a copy kept off the host):
                        its checkpoints must be the log's, and none may be past the log's end
  -h, --help            print this help

output:
  on success, on stdout:  ok: N records, M signed checkpoints, chain intact[, anchor matches]
  each problem on stderr: FILE:LINE: seq S: what
  where "what" starts with the kind of tampering: modified record, deleted record(s),
  reordered records, inserted record, tail cut, not closed cleanly ("log ends N records after
  its last checkpoint; ..."), no checkpoint, bad signature, wrong key, anchor mismatch,
  malformed record, file missing, files out of order.

exit status: 0 if the log is intact, 1 if any problem was found or a file cannot be read,
2 on a usage error.
)";

int verifyUsageError(const std::string& message) {
  std::cerr << "airlock audit verify: " << message << "\n"
            << "usage: airlock audit verify FILE... [--key PUB] [--anchor CHECKPOINTS]\n"
            << "try 'airlock audit verify --help'\n";
  return 2;
}

}  // namespace _

int auditVerifyMain(int argc, char** argv) {
  audit::VerifyOptions options;
  std::string keyPath;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << _::VERIFY_USAGE.substr(1);
      return 0;
    } else if (arg == "--key" || arg == "--anchor") {
      if (i + 1 >= argc) return _::verifyUsageError(std::string(arg) + " needs a value");
      (arg == "--key" ? keyPath : options.anchorPath) = argv[++i];
    } else if (arg.size() > 1 && arg[0] == '-') {
      return _::verifyUsageError("unknown option " + std::string(arg));
    } else {
      options.logPaths.emplace_back(arg);
    }
  }
  if (options.logPaths.empty()) return _::verifyUsageError("FILE is required");
  if (!keyPath.empty()) {
    std::string error;
    KJ_IF_MAYBE(key, audit::loadPublicKey(keyPath, error)) {
      options.trustedKey = *key;
    } else {
      std::cerr << "airlock audit verify: --key " << error << "\n";
      return 1;
    }
  }
  auto report = audit::verifyLog(options);
  if (!report.ok()) {
    for (auto& problem : report.problems) std::cerr << problem.describe() << "\n";
    return 1;
  }
  std::cout << report.summary() << "\n";
  return 0;
}

}  // namespace airlock::cli

#pragma once
// The logs of one or several brokers on the command line of `airlock audit verify` and `airlock
// audit report`: `[--key PUB] [--anchor CHECKPOINTS] FILE...` for one broker, as always, or for a
// fleet one group per broker, each begun by `--broker NAME` and holding that broker's --key,
// --anchor and files:
//   airlock audit verify --broker web-1 --key web-1.pub web-1/audit.jsonl
//                        --broker web-2 --key web-2.pub web-2/audit.jsonl.* web-2/audit.jsonl

#include <functional>
#include <string>
#include <vector>

#include "audit/verifier.h"

namespace airlock::cli {

struct BrokerLogs {
  std::string name;  // empty for the one broker of a command line without --broker
  std::string keyPath, anchorPath;
  std::vector<std::string> files;
};

// Walks argv[1..argc): --broker, --key, --anchor and FILEs into `brokers`; any other option is
// offered to `other` (which returns false if it is not one, or sets `error`). False with `error`
// set on a usage error: an option without its value, an unknown option, a group without files,
// files before the first --broker when --broker is used, a broker named twice.
bool parseBrokerLogs(int argc, char** argv, std::vector<BrokerLogs>& brokers, std::string& error,
                     const std::function<bool(int& i, std::string& error)>& other);

// verifyLog's options for one broker: its files, key (loaded; false with `error` if it cannot
// be), anchor.
bool verifyOptionsFor(const BrokerLogs& broker, bool requireClosed, audit::VerifyOptions& options,
                      std::string& error);

}  // namespace airlock::cli

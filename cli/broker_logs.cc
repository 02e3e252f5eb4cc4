#include "cli/broker_logs.h"

#include <algorithm>
#include <string_view>

namespace airlock::cli {

bool parseBrokerLogs(int argc, char** argv, std::vector<BrokerLogs>& brokers, std::string& error,
                     const std::function<bool(int& i, std::string& error)>& other) {
  brokers.assign(1, BrokerLogs{});
  bool fleet = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    bool takesValue = arg == "--broker" || arg == "--key" || arg == "--anchor";
    if (takesValue && i + 1 >= argc) {
      error = std::string(arg) + " needs a value";
      return false;
    }
    if (arg == "--broker") {
      std::string name = argv[++i];
      if (!fleet && (!brokers[0].files.empty() || !brokers[0].keyPath.empty() ||
                     !brokers[0].anchorPath.empty())) {
        error = "give --broker NAME before the --key, --anchor and files of each broker";
        return false;
      }
      bool named = std::any_of(brokers.begin(), brokers.end(),
                               [&name](const BrokerLogs& b) { return b.name == name; });
      if (name.empty() || named) {
        error = "--broker \"" + name + "\" " + (name.empty() ? "needs a name" : "is given twice");
        return false;
      }
      if (fleet) brokers.emplace_back();
      fleet = true;
      brokers.back().name = name;
    } else if (arg == "--key" || arg == "--anchor") {
      (arg == "--key" ? brokers.back().keyPath : brokers.back().anchorPath) = argv[++i];
    } else if (arg.size() > 1 && arg[0] == '-') {
      if (other(i, error)) continue;
      if (error.empty()) error = "unknown option " + std::string(arg);
      return false;
    } else {
      brokers.back().files.emplace_back(arg);
    }
  }
  for (auto& broker : brokers) {
    if (broker.files.empty()) {
      error = broker.name.empty() ? "FILE is required"
                                  : "FILE is required for --broker " + broker.name;
      return false;
    }
  }
  return true;
}

bool verifyOptionsFor(const BrokerLogs& broker, bool requireClosed, audit::VerifyOptions& options,
                      std::string& error) {
  options.logPaths = broker.files;
  options.anchorPath = broker.anchorPath;
  options.requireClosed = requireClosed;
  if (broker.keyPath.empty()) return true;
  KJ_IF_MAYBE(key, audit::loadPublicKey(broker.keyPath, error)) {
    options.trustedKey = *key;
    return true;
  }
  error = "--key " + error;
  return false;
}

}  // namespace airlock::cli

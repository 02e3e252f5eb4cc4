#include "cli/policy_args.h"

#include <filesystem>
#include <iostream>

namespace airlock::cli {

namespace _ {
namespace {

int usageError(std::string_view command, std::string_view usageLine, const std::string& message) {
  std::cerr << "airlock " << command << ": " << message << "\n"
            << usageLine << "\n"
            << "try 'airlock " << command << " --help'\n";
  return 2;
}

// Parses NAME=VALUE into options; returns an error text or "".
std::string addDefine(std::string_view arg, policy::LoadOptions& load) {
  size_t eq = arg.find('=');
  if (eq == std::string_view::npos)
    return "--define needs NAME=VALUE, got \"" + std::string(arg) + "\"";
  std::string name(arg.substr(0, eq));
  if (!policy::isDefineName(name)) {
    return "--define name \"" + name + "\" is not [A-Za-z_][A-Za-z0-9_]* (at most 64 bytes)";
  }
  if (!load.defines.emplace(name, std::string(arg.substr(eq + 1))).second) {
    return "--define " + name + " given twice";
  }
  return {};
}

}  // namespace
}  // namespace _

int parsePolicyArgs(int argc, char** argv, std::string_view usage, std::string_view command,
                    std::string_view usageLine, PolicyArgs& out) {
  out.load.workerCheck = policy::LoadOptions::WorkerCheck::SKIP;
  bool optionsDone = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view flag, std::string& into) -> std::string {
      if (arg.size() > flag.size() && arg[flag.size()] == '=') {
        into = std::string(arg.substr(flag.size() + 1));
        return {};
      }
      if (i + 1 >= argc) return std::string(flag) + " needs a value";
      into = argv[++i];
      return {};
    };
    std::string error, text;
    if (optionsDone || arg.empty() || arg[0] != '-') {
      out.paths.emplace_back(arg);
    } else if (arg == "--") {
      optionsDone = true;
    } else if (arg == "-h" || arg == "--help") {
      std::cout << usage.substr(1);  // the raw string starts with a newline
      return 0;
    } else if (arg == "--define" || arg.starts_with("--define=")) {
      error = value("--define", text);
      if (error.empty()) error = _::addDefine(text, out.load);
    } else if (arg == "--workers" || arg.starts_with("--workers=")) {
      error = value("--workers", out.load.workersDir);
      if (error.empty() && out.load.workersDir.empty()) error = "--workers needs a directory";
      out.load.workerCheck = policy::LoadOptions::WorkerCheck::REQUIRE_EXECUTABLE;
    } else {
      error = "unknown option " + std::string(arg);
    }
    if (!error.empty()) return _::usageError(command, usageLine, error);
  }
  if (out.paths.empty()) return _::usageError(command, usageLine, "no PATH given");
  return -1;
}

policy::LoadResult loadPolicyPath(const std::string& path, const policy::LoadOptions& load) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) ? policy::loadPolicyDir(path, load)
                                                 : policy::loadPolicyFile(path, load);
}

}  // namespace airlock::cli

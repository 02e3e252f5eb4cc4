#include "cli/policy_check.h"

#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "broker/policy/policy_loader.h"

namespace airlock::cli {

namespace _ {

constexpr std::string_view USAGE = R"(
usage: airlock policy check [--define NAME=VALUE]... [--workers DIR] PATH...

Checks airlock policy files (TOML, format v1: see docs/policy.md) the way airlockd loads them,
and reports every problem, not just the first.

PATH is a policy directory (every *.toml file directly in it, as airlockd --policies DIR loads
it; unit names must be unique across it) or a single policy file.

options:
  --define NAME=VALUE  value for ${NAME} in path values; repeatable. An undefined ${NAME} is an
                       error. VALUE is a literal path: it may not contain '*' or '${'.
  --workers DIR        look a relative `worker = "name"` up in DIR and check that every worker
                       exists and is executable. Without --workers, that check is skipped.
  -h, --help           print this help

output:
  each problem on stderr as   file:line:col: message
  each warning on stderr as   file:line:col: warning: message
  per valid PATH on stdout:   ok: N units, M rules in PATH
  per invalid PATH on stderr: failed: N error(s) in PATH

exit status: 0 if every PATH is valid, 1 if any has an error, 2 on a usage error.
)";

struct Options {
  policy::LoadOptions load;
  std::vector<std::string> paths;
};

int usageError(const std::string& message) {
  std::cerr << "airlock policy check: " << message << "\n"
            << "usage: airlock policy check [--define NAME=VALUE]... [--workers DIR] PATH...\n"
            << "try 'airlock policy check --help'\n";
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

// Returns -1 when parsing succeeded, else the exit status to return (0 for --help).
int parseArgs(int argc, char** argv, Options& out) {
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
      std::cout << USAGE.substr(1);  // the raw string starts with a newline
      return 0;
    } else if (arg == "--define" || arg.starts_with("--define=")) {
      error = value("--define", text);
      if (error.empty()) error = addDefine(text, out.load);
    } else if (arg == "--workers" || arg.starts_with("--workers=")) {
      error = value("--workers", out.load.workersDir);
      if (error.empty() && out.load.workersDir.empty()) error = "--workers needs a directory";
      out.load.workerCheck = policy::LoadOptions::WorkerCheck::REQUIRE_EXECUTABLE;
    } else {
      error = "unknown option " + std::string(arg);
    }
    if (!error.empty()) return usageError(error);
  }
  if (out.paths.empty()) return usageError("no PATH given");
  return -1;
}

// Checks one PATH; returns whether it is valid.
bool checkPath(const std::string& path, const policy::LoadOptions& load) {
  std::error_code ec;
  policy::LoadResult result = std::filesystem::is_directory(path, ec)
                                  ? policy::loadPolicyDir(path, load)
                                  : policy::loadPolicyFile(path, load);
  for (const policy::Diagnostic& d : result.errors) std::cerr << d.describe() << "\n";
  for (const policy::Diagnostic& d : result.warnings) {
    std::cerr << d.where.describe() << ": warning: " << d.message << "\n";
  }
  if (!result.ok()) {
    size_t n = result.errors.size();
    std::cerr << "failed: " << n << (n == 1 ? " error in " : " errors in ") << path << "\n";
    return false;
  }
  size_t rules = 0;
  for (const policy::UnitPolicy& unit : result.units) rules += unit.rules.size();
  std::cout << "ok: " << result.units.size() << " units, " << rules << " rules in " << path << "\n";
  return true;
}

}  // namespace _

int policyCheckMain(int argc, char** argv) {
  _::Options options;
  int status = _::parseArgs(argc, argv, options);
  if (status >= 0) return status;
  bool allOk = true;
  for (const std::string& path : options.paths) allOk = _::checkPath(path, options.load) && allOk;
  return allOk ? 0 : 1;
}

}  // namespace airlock::cli

#include "cli/unit_program.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>

#include "cli/policy_args.h"

namespace airlock::cli {

std::optional<policy::UnitPolicy> loadUnit(const std::string& path, const std::string& name,
                                           const policy::LoadOptions& load,
                                           const char* command) {
  auto loaded = loadPolicyPath(path, load);
  for (auto& error : loaded.errors) fprintf(stderr, "%s\n", error.describe().c_str());
  if (!loaded.ok()) {
    fprintf(stderr, "%s: %zu error(s) in %s; not running anything\n", command,
            loaded.errors.size(), path.c_str());
    return std::nullopt;
  }
  if (name.empty()) {
    if (loaded.units.size() == 1) return loaded.units[0];
    fprintf(stderr, "%s: %s has %zu units; say which with --unit NAME\n", command,
            path.c_str(), loaded.units.size());
    return std::nullopt;
  }
  for (auto& unit : loaded.units) {
    if (unit.name == name) return unit;
  }
  fprintf(stderr, "%s: no unit \"%s\" in %s\n", command, name.c_str(), path.c_str());
  return std::nullopt;
}

bool addDefine(const std::string& definition, policy::LoadOptions& load, const char* command) {
  auto eq = definition.find('=');
  if (eq == std::string::npos || !policy::isDefineName(definition.substr(0, eq))) {
    fprintf(stderr, "%s: --define needs NAME=VALUE, got \"%s\"\n", command, definition.c_str());
    return false;
  }
  load.defines[definition.substr(0, eq)] = definition.substr(eq + 1);
  return true;
}

std::string resolveProgram(const std::string& name) {
  if (name.empty()) return "";  // not the first $PATH directory, which realpath would give
  std::string candidate = name;
  if (name.find('/') == std::string::npos) {
    const char* path = getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
      size_t end = dirs.find(':', start);
      if (end == std::string::npos) end = dirs.size();
      std::string full = dirs.substr(start, end - start) + "/" + name;
      if (access(full.c_str(), X_OK) == 0) {
        candidate = full;
        break;
      }
      start = end + 1;
    }
  }
  char resolved[PATH_MAX];
  if (!realpath(candidate.c_str(), resolved)) return "";
  return resolved;
}

int reportExit(const sandbox::ExitStatus& exit, const std::string& program, const char* command) {
  // Under the unit's on_refused_syscall = "errno": what was refused, though PROG went on.
  for (auto& [syscall, count] : exit.answeredSyscalls) {
    fprintf(stderr, "%s: refused syscall %s answered with an errno %llu time(s)\n", command,
            syscall.c_str(), static_cast<unsigned long long>(count));
  }
  // A learning unit: what ran outside its groups, on record (syscall.learned).
  for (auto& [syscall, count] : exit.learnedSyscalls) {
    fprintf(stderr, "%s: learned syscall %s (outside the unit's groups) ran %llu time(s)\n",
            command, syscall.c_str(), static_cast<unsigned long long>(count));
  }
  if (exit.exited) return exit.code;
  fprintf(stderr, "%s: %s %s\n", command, program.c_str(), exit.describe().c_str());
  // A refusal ends with the supervisor's SIGKILL; report it as the seccomp kill it is.
  return 128 + (exit.killedBySandbox() ? SIGSYS : exit.signal);
}

}  // namespace airlock::cli

#pragma once
// Reads policy files (TOML) into UnitPolicy values. Every problem is reported with the file, line
// and column it comes from; all problems are collected, not just the first.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "broker/policy/model/policy.h"

namespace airlock::policy {

struct Diagnostic {
  SourceLocation where;
  std::string message;
  std::string describe() const;  // "file:line:col: message"
};

struct LoadOptions {
  std::map<std::string, std::string> defines;
  // Values for `${name}` references in path values (airlockd --define name=value). An undefined
  // name is an error.

  std::string workersDir;
  // Where a relative `worker = "name"` is looked up. An absolute worker path is used as is. The
  // worker must exist and be executable.

  enum class WorkerCheck : uint8_t { REQUIRE_EXECUTABLE, SKIP, COMMAND_LINE_PROGRAM };
  WorkerCheck workerCheck = WorkerCheck::REQUIRE_EXECUTABLE;
  // SKIP is for linting (`airlock policy check` without --workers) on a machine that does not have
  // the workers: the worker is then neither looked up nor checked, and workerPath may stay
  // relative. airlockd never skips. COMMAND_LINE_PROGRAM is `airlock run`'s: the program on its
  // command line runs under the unit, so `worker` may be absent and is not checked either.
};

// True for the names `${name}` may use and LoadOptions.defines may hold:
// [A-Za-z_][A-Za-z0-9_]{0,63}.
bool isDefineName(std::string_view name);

// Largest policy file read, a bound on what a parser has to chew (a policy is a few KiB).
inline constexpr size_t MAX_POLICY_FILE_BYTES = 1 << 20;

struct LoadResult {
  std::vector<UnitPolicy> units;  // only units whose file had no error
  BrokerSettings broker;          // from the file holding [broker], if any (and if it had no error)
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;  // accepted but worth a look (e.g. a "/**" grant)
  bool ok() const { return errors.empty(); }
};

// Loads one policy file: at most one unit, or the [broker] settings (a file holds one or the
// other). Never throws for bad input: every problem (unreadable
// file, TOML syntax, unknown keys, wrong types, bad values, missing worker) is a Diagnostic.
// Reads the file system (the file, the worker, sandbox.read_only_paths); call it at startup or
// reload, never per call.
LoadResult loadPolicyFile(const std::string& path, const LoadOptions& options);

// loadPolicyFile for text already in memory: `path` only names it in diagnostics and becomes
// the unit's `file`. Borrows `text` for the call. Touches the file system only as the options
// ask (the worker and sandbox.read_only_paths checks). For the policy fuzzer and tools that hold
// the text; airlockd loads files.
LoadResult loadPolicyText(std::string_view text, const std::string& path,
                          const LoadOptions& options);

// Loads every `*.toml` file directly in `dir` (sorted by name; names starting with '.' are
// skipped). An empty or missing directory is an error; two files defining the same unit name is
// an error naming both; so are two files holding [broker].
LoadResult loadPolicyDir(const std::string& dir, const LoadOptions& options);

}  // namespace airlock::policy

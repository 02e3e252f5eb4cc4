#include "broker/policy/load/unit_section.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "broker/policy/load/expand_defines.h"
#include "broker/policy/load/learn_section.h"
#include "sandbox/mount_root.h"
#include "sandbox/profile_grants.h"
#include "sandbox/python_worker.h"
#include "sandbox/syscall_sets.h"

namespace airlock::policy::_ {

namespace {

constexpr int64_t MAX_INSTANCES = 16;
constexpr int64_t MAX_CALL_TIMEOUT_MS = 600000;        // 10 minutes
constexpr int64_t MAX_PAYLOAD_BYTES_LIMIT = 64 << 20;  // 64 MiB, the capnp message bound
// Crash-loop bounds: a limit above this is no limit at all, and a window past a day would keep
// a crash from last week counting against a unit that has since been fixed.
constexpr int64_t MAX_CRASH_LOOP_LIMIT = 1000;
constexpr int64_t MIN_CRASH_LOOP_WINDOW_MS = 100;
constexpr int64_t MAX_CRASH_LOOP_WINDOW_MS = 86400000;  // a day
// Flow bounds: beyond these a limit would not limit anything one broker can serve.
constexpr int64_t MAX_CALLS_IN_FLIGHT_LIMIT = 100000;
constexpr int64_t MAX_CALLS_PER_SECOND_LIMIT = 1000000;
constexpr int64_t MAX_REQUESTS_PER_SECOND_LIMIT = 1000000;  // 1 us apart: the timer's grain

int64_t readBounded(const toml::table& table, std::string_view key, int64_t min, int64_t max,
                    int64_t fallback, Diagnostics& diag) {
  return readBoundedInteger(table, key, "[unit]", min, max, fallback, diag);
}

// Resolves `worker` to the path airlockd will execute and, unless skipped, checks it is an
// executable regular file. Returns the path, or "" after reporting a problem.
std::string resolveWorker(const std::string& worker, const toml::source_region& where,
                          const LoadOptions& options, Diagnostics& diag,
                          std::string_view key = "worker") {
  const std::string named = "[unit] " + std::string(key) + " \"";
  using WorkerCheck = LoadOptions::WorkerCheck;
  std::string path;
  if (!worker.empty() && worker[0] == '/') {
    Refusal refused = validateRequestPath(worker);
    if (refused.refuses()) {
      diag.error(where, named + worker + "\": " + refused.why());
      return {};
    }
    path = worker;
  } else if (worker.empty() || worker.find('/') != std::string::npos || worker == "." ||
             worker == "..") {
    diag.error(where, named + worker +
                          "\": must be an absolute path or a file name in the workers directory");
    return {};
  } else if (options.workersDir.empty()) {
    if (options.workerCheck != WorkerCheck::REQUIRE_EXECUTABLE) return worker;
    diag.error(where, named + worker +
                          "\": a relative worker needs a workers directory (--workers DIR)");
    return {};
  } else {
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::absolute(options.workersDir, ec);
    path = ((ec ? std::filesystem::path(options.workersDir) : dir) / worker).lexically_normal();
  }
  if (options.workerCheck != WorkerCheck::REQUIRE_EXECUTABLE) return path;

  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    diag.error(where, named + worker + "\": not found at " + path + " (" +
                          std::strerror(errno) + ")");
    return {};
  }
  if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) {
    diag.error(where,
               named + worker + "\": " + path + " is not an executable regular file");
    return {};
  }
  return path;
}

// What the unit runs: a `worker` (an SDK program serving calls), or a `program` (any program, run
// once per call, its file syscalls brokered). Exactly one; `airlock run` runs the program on its
// command line, so there neither is needed.
// `python_worker`: a Python script, found as `worker` is, that python3 runs as the unit's worker.
// The script is read, not executed, so it must be a regular file, not an executable one.
void readPythonWorker(const toml::table& table, const std::string& script,
                      const LoadOptions& options, Diagnostics& diag, UnitPolicy& unit) {
  auto where = regionOf(table, "python_worker");
  LoadOptions unchecked = options;
  unchecked.workerCheck = LoadOptions::WorkerCheck::SKIP;
  unit.workerName = script;
  unit.pythonScript = resolveWorker(script, where, unchecked, diag, "python_worker");
  if (unit.pythonScript.empty()) return;
  if (options.workerCheck != LoadOptions::WorkerCheck::REQUIRE_EXECUTABLE) {
    unit.workerPath = sandbox::PYTHON_INTERPRETER;
    return;
  }
  struct stat st {};
  if (::stat(unit.pythonScript.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    diag.error(where, "[unit] python_worker \"" + script + "\": no regular file at " +
                          unit.pythonScript);
    unit.pythonScript.clear();
    return;
  }
  unit.workerPath = resolveWorker(sandbox::PYTHON_INTERPRETER, where, options, diag,
                                  "python_worker's interpreter");
}

// The identity of the file at `path` (UnitPolicy::workerFileIdentity), or "" if it cannot be read.
std::string fileIdentity(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return "";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_ctim.tv_sec) + "." +
         std::to_string(st.st_ctim.tv_nsec);
}

// What the unit runs: a `worker` (an SDK program serving calls), a `python_worker` (a Python
// script on the SDK), or a `program` (any program, run once per call, its file syscalls
// brokered). Exactly one; `airlock run` runs the program on its command line, so there none is
// needed.
void readRunnable(const toml::table& table, const LoadOptions& options, Diagnostics& diag,
                  UnitPolicy& unit) {
  auto worker = readString(table, "worker", "[unit]", Presence::OPTIONAL, diag);
  auto python = readString(table, "python_worker", "[unit]", Presence::OPTIONAL, diag);
  auto program = readString(table, "program", "[unit]", Presence::OPTIONAL, diag);
  if (int(bool(worker)) + int(bool(python)) + int(bool(program)) > 1) {
    diag.error(regionOf(table, program ? "program" : "python_worker"),
               "[unit] has more than one of worker, python_worker and program: a unit runs "
               "exactly one");
    return;
  }
  if (worker) {
    unit.workerName = *worker;
    unit.workerPath = resolveWorker(*worker, regionOf(table, "worker"), options, diag);
  } else if (python) {
    readPythonWorker(table, *python, options, diag, unit);
  } else if (program) {
    if (!program->starts_with("/")) {
      diag.error(regionOf(table, "program"),
                 "[unit] program \"" + *program + "\": must be an absolute path (a program is "
                 "not looked up in the workers directory)");
      return;
    }
    unit.programPath =
        resolveWorker(*program, regionOf(table, "program"), options, diag, "program");
    // A program unit is brokered always: a program was not written against the SDK.
    unit.brokerSyscalls = true;
  } else if (options.workerCheck != LoadOptions::WorkerCheck::COMMAND_LINE_PROGRAM &&
             !table.contains("worker") && !table.contains("program") &&
             !table.contains("python_worker")) {
    std::string missing = "[unit]: missing required key \"worker\" (or \"python_worker\" for a "
                          "Python script, \"program\" for a program run once per call)";
    if (options.workerCheck == LoadOptions::WorkerCheck::SKIP) {
      // Linting without the workers: a policy written for `airlock run` (which runs the program
      // on its command line) is valid as such; airlockd, which always checks, refuses it.
      diag.warning(table.source(), missing + ": only `airlock run` and `airlock sandbox run` " +
                                       "can use this unit; airlockd refuses to load it");
    } else {
      diag.error(table.source(), missing);
    }
  }
}

// `KEY = "required" | "best-effort"` in [sandbox], into `into`. Best-effort is a dangerous
// allowance: it needs the table's `justification`. `loses` says what it lets the worker go
// without.
void readStrictness(const toml::table& table, std::string_view key, std::string_view loses,
                    const std::string& justification, Diagnostics& diag, LayerStrictness& into) {
  auto mode = readString(table, key, "[sandbox]", Presence::OPTIONAL, diag);
  if (!mode) return;
  std::string named = "[sandbox] " + std::string(key);
  if (*mode == "required") {
    into = LayerStrictness::REQUIRED;
  } else if (*mode == "best-effort") {
    into = LayerStrictness::BEST_EFFORT;
    if (justification.empty()) {
      diag.error(regionOf(table, key),
                 named + " = \"best-effort\" lets " + std::string(loses) +
                     ": a dangerous allowance needs justification = \"...\" in [sandbox] "
                     "saying why");
    }
  } else {
    diag.error(regionOf(table, key),
               named + " \"" + *mode + "\": expected \"required\" or \"best-effort\"");
  }
}

// `landlock` and `resources` (whether a [resources] limit the machine cannot enforce stops the
// unit or is skipped), each "required" or "best-effort", and their `justification`.
void readLayerStrictness(const toml::table& table, Diagnostics& diag, UnitPolicy& unit) {
  if (auto why = readString(table, "justification", "[sandbox]", Presence::OPTIONAL, diag)) {
    if (!saysWhy(*why)) {
      diag.error(regionOf(table, "justification"),
                 "[sandbox] justification must say why in visible text, not be empty");
    } else {
      unit.sandboxJustification = *why;
    }
  }
  readStrictness(table, "landlock", "the worker run without Landlock where the kernel lacks it",
                 unit.sandboxJustification, diag, unit.landlock);
  readStrictness(table, "resources",
                 "the workers run without a [resources] limit the machine cannot enforce",
                 unit.sandboxJustification, diag, unit.resourcesEnforcement);
}

// `restart`, `crash_loop_limit` and `crash_loop_window_ms` (unit.restart).
void readRestart(const toml::table& table, Diagnostics& diag, UnitPolicy& unit) {
  RestartSettings& restart = unit.restart;
  if (auto policy = readString(table, "restart", "[unit]", Presence::OPTIONAL, diag)) {
    restart.policyWhere = diag.at(regionOf(table, "restart"));
    if (*policy == "always") {
      restart.policy = RestartPolicy::ALWAYS;
    } else if (*policy == "on-failure") {
      restart.policy = RestartPolicy::ON_FAILURE;
    } else if (*policy == "never") {
      restart.policy = RestartPolicy::NEVER;
    } else {
      diag.error(regionOf(table, "restart"), "[unit] restart \"" + *policy +
                                                 "\": expected \"always\", \"on-failure\" or "
                                                 "\"never\"");
    }
  }
  if (table.contains("crash_loop_limit")) {
    restart.limitWhere = diag.at(regionOf(table, "crash_loop_limit"));
  }
  restart.crashLoopLimit = static_cast<int>(
      readBounded(table, "crash_loop_limit", 1, MAX_CRASH_LOOP_LIMIT, 0, diag));
  restart.crashLoopWindow = std::chrono::milliseconds(
      readBounded(table, "crash_loop_window_ms", MIN_CRASH_LOOP_WINDOW_MS,
                  MAX_CRASH_LOOP_WINDOW_MS, restart.crashLoopWindow.count(), diag));
  if (table.contains("crash_loop_window_ms") && !table.contains("crash_loop_limit")) {
    diag.error(regionOf(table, "crash_loop_window_ms"),
               "[unit] crash_loop_window_ms has no effect without crash_loop_limit: add "
               "crash_loop_limit = N (N crashes within the window park the unit)");
  }
}

// `worker_reuse` (unit.workerReuse). A program unit runs once per call anyway: the key would
// promise something it does not change, so it is refused there.
void readWorkerReuse(const toml::table& table, Diagnostics& diag, UnitPolicy& unit) {
  auto reuse = readString(table, "worker_reuse", "[unit]", Presence::OPTIONAL, diag);
  if (!reuse) return;
  WorkerReuseSetting& setting = unit.workerReuse;
  setting.where = diag.at(regionOf(table, "worker_reuse"));
  if (*reuse == "any") {
    setting.reuse = WorkerReuse::ANY;
  } else if (*reuse == "per-caller") {
    setting.reuse = WorkerReuse::PER_CALLER;
  } else if (*reuse == "never") {
    setting.reuse = WorkerReuse::NEVER;
  } else {
    diag.error(regionOf(table, "worker_reuse"),
               "[unit] worker_reuse \"" + *reuse +
                   "\": expected \"any\", \"per-caller\" or \"never\"");
    return;
  }
  if (table.contains("program")) {
    diag.error(regionOf(table, "worker_reuse"),
               "[unit] worker_reuse has no effect on a program unit: its program already runs "
               "once per call");
  }
}

// `max_calls_in_flight`, `max_calls_per_second` and `calls_burst` (unit.flow).
void readFlow(const toml::table& table, Diagnostics& diag, UnitPolicy& unit) {
  FlowLimits& flow = unit.flow;
  if (table.contains("max_calls_in_flight")) {
    flow.inFlightWhere = diag.at(regionOf(table, "max_calls_in_flight"));
  }
  if (table.contains("max_calls_per_second")) {
    flow.perSecondWhere = diag.at(regionOf(table, "max_calls_per_second"));
  }
  flow.maxCallsInFlight = static_cast<uint64_t>(
      readBounded(table, "max_calls_in_flight", 1, MAX_CALLS_IN_FLIGHT_LIMIT, 0, diag));
  flow.maxCallsPerSecond = static_cast<uint64_t>(
      readBounded(table, "max_calls_per_second", 1, MAX_CALLS_PER_SECOND_LIMIT, 0, diag));
  flow.callsBurst = static_cast<uint64_t>(
      readBounded(table, "calls_burst", 1, MAX_CALLS_PER_SECOND_LIMIT, 0, diag));
  if (table.contains("calls_burst") && !table.contains("max_calls_per_second")) {
    diag.error(regionOf(table, "calls_burst"),
               "[unit] calls_burst has no effect without max_calls_per_second: add "
               "max_calls_per_second = N (the rate the burst refills at)");
  }
}

// `max_requests_per_second` and `requests_burst` (unit.requests); both have defaults.
void readRequestPace(const toml::table& table, Diagnostics& diag, UnitPolicy& unit) {
  RequestLimits& requests = unit.requests;
  requests.maxRequestsPerSecond = static_cast<uint64_t>(
      readBounded(table, "max_requests_per_second", 1, MAX_REQUESTS_PER_SECOND_LIMIT,
                  DEFAULT_REQUESTS_PER_SECOND, diag));
  requests.requestsBurst = static_cast<uint64_t>(readBounded(
      table, "requests_burst", 1, MAX_REQUESTS_PER_SECOND_LIMIT, DEFAULT_REQUESTS_BURST, diag));
}

}  // namespace

void readLimitsSection(const toml::node* node, Diagnostics& diag, UnitPolicy& unit) {
  if (node == nullptr) return;
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    diag.error(node->source(),
               "limits must be a table ([limits]), got " + std::string(typeName(*node)));
    return;
  }
  static constexpr std::array<std::string_view, 5> KEYS = {
      "memory_mib", "open_files", "threads", "file_size_mib", "cpu_seconds"};
  checkKnownKeys(*table, KEYS, "[limits]", diag);
  WorkerLimits& limits = unit.limits;
  auto read = [&](std::string_view key, int64_t min, int64_t max, uint64_t& into) {
    into = static_cast<uint64_t>(readBoundedInteger(*table, key, "[limits]", min, max,
                                                    static_cast<int64_t>(into), diag));
  };
  read("memory_mib", 64, 1 << 20, limits.memoryMiB);
  read("open_files", 16, 1 << 20, limits.openFiles);
  read("threads", 1, 4096, limits.threads);
  read("file_size_mib", 0, 1 << 20, limits.fileSizeMiB);
  read("cpu_seconds", 0, 86400, limits.cpuSeconds);
}

void readResourcesSection(const toml::node* node, Diagnostics& diag, UnitPolicy& unit) {
  if (node == nullptr) return;
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    diag.error(node->source(),
               "resources must be a table ([resources]), got " + std::string(typeName(*node)));
    return;
  }
  unit.resourcesWhere = diag.at(table->source());
  std::vector<std::string_view> keys;
  for (const ResourceKeyRow& row : resourceKeyRows()) keys.push_back(row.name);
  checkKnownKeys(*table, keys, "[resources]", diag);
  for (const ResourceKeyRow& row : resourceKeyRows()) {
    unit.resources.values[static_cast<size_t>(row.key)] = static_cast<uint64_t>(
        readBoundedInteger(*table, row.name, "[resources]", row.min, row.max, 0, diag));
  }
  if (unit.resources.isSet(ResourceKey::MEMORY_HIGH_MIB) &&
      unit.resources.isSet(ResourceKey::MEMORY_MAX_MIB) &&
      unit.resources.get(ResourceKey::MEMORY_HIGH_MIB) >
          unit.resources.get(ResourceKey::MEMORY_MAX_MIB)) {
    diag.error(regionOf(*table, "memory_high_mib"),
               "[resources] memory_high_mib is above memory_max_mib: the workers would be killed "
               "before they are ever reclaimed; lower it or drop it");
  }
}

void readUnitSection(const toml::node* node, const LoadOptions& options, Diagnostics& diag,
                     UnitPolicy& unit) {
  if (node == nullptr) {
    toml::source_region start;
    start.begin = {1, 1};
    diag.error(start, "missing [unit] table (every policy file describes one unit)");
    return;
  }
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    diag.error(node->source(),
               "unit must be a table ([unit]), got " + std::string(typeName(*node)));
    return;
  }
  static constexpr std::array<std::string_view, 21> KEYS = {
      "name",    "worker",           "python_worker",    "program",             "instances",
      "call_timeout_ms",  "max_payload_bytes",
      "restart", "crash_loop_limit", "crash_loop_window_ms", "max_calls_in_flight",
      "max_calls_per_second", "calls_burst", "max_requests_per_second", "requests_burst",
      "interface", LEARN_KEYS[0], LEARN_KEYS[1], LEARN_KEYS[2], LEARN_KEYS[3],
      "worker_reuse"};
  checkKnownKeys(*table, KEYS, "[unit]", diag);

  if (auto name = readString(*table, "name", "[unit]", Presence::REQUIRED, diag)) {
    if (!validateUnitName(*name).refuses()) {
      unit.name = *name;
      unit.where = diag.at(regionOf(*table, "name"));
    } else {
      diag.error(regionOf(*table, "name"),
                 "[unit] name \"" + *name + "\": expected 1 to 64 of a-z, 0-9 and '-'");
    }
  }
  readRunnable(*table, options, diag, unit);
  if (options.workerCheck == LoadOptions::WorkerCheck::REQUIRE_EXECUTABLE) {
    unit.workerFileIdentity = fileIdentity(unit.pythonScript.empty() ? unit.workerPath
                                                                     : unit.pythonScript);
  }
  unit.instances = static_cast<int>(readBounded(*table, "instances", 1, MAX_INSTANCES, 1, diag));
  unit.callTimeout = std::chrono::milliseconds(
      readBounded(*table, "call_timeout_ms", 1, MAX_CALL_TIMEOUT_MS, 5000, diag));
  unit.maxPayloadBytes = static_cast<size_t>(
      readBounded(*table, "max_payload_bytes", 1, MAX_PAYLOAD_BYTES_LIMIT, 1 << 20, diag));
  if (auto spec = readString(*table, "interface", "[unit]", Presence::OPTIONAL, diag)) {
    std::string error;
    std::string policyDir = std::filesystem::path(unit.file).parent_path().string();
    unit.typedInterface = loadTypedInterface(*spec, policyDir.empty() ? "." : policyDir, error);
    if (unit.typedInterface == nullptr) {
      diag.error(regionOf(*table, "interface"), "[unit] interface \"" + *spec + "\": " + error);
    }
  }
  readRestart(*table, diag, unit);
  readWorkerReuse(*table, diag, unit);
  readFlow(*table, diag, unit);
  readRequestPace(*table, diag, unit);
  readLearnKeys(*table, options, diag, unit);
}

// `syscalls = ["fs-metadata", "sync"]`: groups of the one syscall table, or single syscalls no
// group lists; an always-refused one, one a group lists, or an unknown name is an error at its
// entry. A group every worker already has is a warning: it adds nothing.
void readSyscalls(const toml::table& table, Diagnostics& diag, UnitPolicy& unit) {
  auto names = readStringList(table, "syscalls", "[sandbox]", Presence::OPTIONAL, diag);
  if (!names) return;
  for (const Located<std::string>& entry : *names) {
    std::string what = "[sandbox] syscalls \"" + entry.value + "\"";
    KJ_IF_MAYBE(refused, sandbox::refusalOfSyscallName(entry.value.c_str())) {
      diag.error(*entry.where, what + ": " + refused->cStr());
    } else if (std::find(unit.syscalls.begin(), unit.syscalls.end(), entry.value) !=
               unit.syscalls.end()) {
      diag.error(*entry.where, what + " is listed twice");
    } else {
      if (sandbox::isDefaultGroup(entry.value.c_str())) {
        diag.warning(*entry.where, what + ": every worker has this group already");
      }
      KJ_IF_MAYBE(group, sandbox::findSyscallGroup(entry.value.c_str())) {
        if (group->danger != nullptr && unit.sandboxJustification.empty()) {
          diag.error(*entry.where, what + " is a dangerous allowance (" + group->danger +
                                       "): it needs justification = \"...\" in [sandbox] "
                                       "saying why");
        }
      }
      unit.syscalls.push_back(entry.value);
    }
  }
}

// `on_refused_syscall = "kill" | "errno"`. Not a weaker sandbox: the refused syscall never runs
// either way; "errno" only lets the worker go on (and its refusals are still recorded).
void readSyscallRefusal(const toml::table& table, Diagnostics& diag, UnitPolicy& unit) {
  auto mode = readString(table, "on_refused_syscall", "[sandbox]", Presence::OPTIONAL, diag);
  if (!mode) return;
  if (*mode == "kill") {
    unit.onRefusedSyscall = SyscallRefusal::KILL;
  } else if (*mode == "errno") {
    unit.onRefusedSyscall = SyscallRefusal::ERRNO;
  } else {
    diag.error(regionOf(table, "on_refused_syscall"),
               "[sandbox] on_refused_syscall \"" + *mode + "\": expected \"kill\" or \"errno\"");
  }
}

// `seccomp_profile = "FILE.json"`, relative to the policy file's directory: read once, here, and
// kept parsed with what it grants a worker on this kernel (sandbox/profile_grants.h).
void readSeccompProfile(const toml::table& table, Diagnostics& diag, UnitPolicy& unit) {
  auto file = readString(table, "seccomp_profile", "[sandbox]", Presence::OPTIONAL, diag);
  if (!file) return;
  auto where = regionOf(table, "seccomp_profile");
  if (file->find('\0') != std::string::npos) {
    // open(2) would read the name only up to it: a different file than the one written.
    diag.error(where, "[sandbox] seccomp_profile: the path has a NUL byte");
    return;
  }
  std::filesystem::path path(*file);
  if (path.is_relative()) path = std::filesystem::path(unit.file).parent_path() / path;
  sandbox::ProfileParse parsed = sandbox::readSeccompProfile(path.string(), *file);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    diag.error(where, "[sandbox] seccomp_profile: " + *error +
                          (path.string() == *file ? "" : " (at " + path.string() + ")"));
    return;
  }
  const auto& profile = std::get<sandbox::SeccompProfile>(parsed);
  auto setting = std::make_shared<SeccompProfileSetting>();
  setting->written = *file;
  setting->canonical = profile.canonical;
  setting->grants = std::make_shared<const sandbox::ProfileGrants>(
      sandbox::grantProfile(profile, sandbox::thisKernelConditions()));
  setting->where = diag.at(where);
  unit.seccompProfile = std::move(setting);
}

void readSandboxSection(const toml::node* node, const LoadOptions& options, Diagnostics& diag,
                        UnitPolicy& unit) {
  if (node == nullptr) return;
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    diag.error(node->source(),
               "sandbox must be a table ([sandbox]), got " + std::string(typeName(*node)));
    return;
  }
  static constexpr std::array<std::string_view, 8> KEYS = {
      "read_only_paths", "landlock",           "justification",   "syscalls",
      "on_refused_syscall", "broker_syscalls", "seccomp_profile", "resources"};
  checkKnownKeys(*table, KEYS, "[sandbox]", diag);
  if (auto brokered = readBoolean(*table, "broker_syscalls", "[sandbox]", Presence::OPTIONAL, diag)) {
    if (!*brokered && !unit.programPath.empty()) {
      diag.error(regionOf(*table, "broker_syscalls"),
                 "[sandbox] broker_syscalls = false: a [unit] program is always brokered (it was "
                 "not written against the SDK)");
    }
    unit.brokerSyscalls = unit.brokerSyscalls || *brokered;
  }
  readLayerStrictness(*table, diag, unit);
  readSyscalls(*table, diag, unit);
  readSyscallRefusal(*table, diag, unit);
  readSeccompProfile(*table, diag, unit);
  auto paths = readStringList(*table, "read_only_paths", "[sandbox]", Presence::OPTIONAL, diag);
  if (!paths) return;
  for (const Located<std::string>& entry : *paths) {
    std::string error;
    std::optional<std::string> path = expandDefines(entry.value, options.defines, error);
    if (path && error.empty()) error = validateRequestPath(*path).why();
    struct stat st {};
    if (error.empty() && ::stat(path->c_str(), &st) != 0) {
      error = std::string("does not exist (") + std::strerror(errno) + ")";
    }
    for (const char* kernel : {"/proc", "/sys"}) {
      std::string_view k(kernel);
      bool beneath = path->starts_with(k) && (path->size() == k.size() || (*path)[k.size()] == '/');
      if (error.empty() && beneath) {
        // The host's: every host process with its command line and environment, and the
        // machine's devices and settings. The worker has its own PID namespace for a reason.
        error = std::string("is the host's ") + kernel + ", never bound into a sandbox";
      }
    }
    if (error.empty()) error = sandbox::readOnlyPathThroughSymlink(*path);
    if (!error.empty()) {
      diag.error(*entry.where, "[sandbox] read_only_paths \"" + entry.value + "\": " + error);
      continue;
    }
    unit.readOnlyPaths.push_back(*path);
  }
}

}  // namespace airlock::policy::_

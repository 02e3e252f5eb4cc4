#include "broker/policy/unit_section.h"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "broker/policy/expand_defines.h"

namespace airlock::policy::_ {

namespace {

constexpr int64_t MAX_INSTANCES = 16;
constexpr int64_t MAX_CALL_TIMEOUT_MS = 600000;        // 10 minutes
constexpr int64_t MAX_PAYLOAD_BYTES_LIMIT = 64 << 20;  // 64 MiB, the capnp message bound

bool isUnitName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// Reads an optional integer key in [min, max]; keeps `fallback` when absent or wrong.
int64_t readBounded(const toml::table& table, std::string_view key, int64_t min, int64_t max,
                    int64_t fallback, Diagnostics& diag) {
  std::optional<int64_t> value = readInteger(table, key, "[unit]", Presence::OPTIONAL, diag);
  if (!value) return fallback;
  if (*value < min || *value > max) {
    diag.error(regionOf(table, key), "[unit] " + std::string(key) + ": " + std::to_string(*value) +
                                         " is out of range " + std::to_string(min) + ".." +
                                         std::to_string(max));
    return fallback;
  }
  return *value;
}

// Resolves `worker` to the path airlockd will execute and, unless skipped, checks it is an
// executable regular file. Returns the path, or "" after reporting a problem.
std::string resolveWorker(const std::string& worker, const toml::source_region& where,
                          const LoadOptions& options, Diagnostics& diag) {
  using WorkerCheck = LoadOptions::WorkerCheck;
  std::string path;
  if (!worker.empty() && worker[0] == '/') {
    std::string refused = validateRequestPath(worker);
    if (!refused.empty()) {
      diag.error(where, "[unit] worker \"" + worker + "\": " + refused);
      return {};
    }
    path = worker;
  } else if (worker.empty() || worker.find('/') != std::string::npos || worker == "." ||
             worker == "..") {
    diag.error(where, "[unit] worker \"" + worker +
                          "\": must be an absolute path or a file name in the workers directory");
    return {};
  } else if (options.workersDir.empty()) {
    if (options.workerCheck == WorkerCheck::SKIP) return worker;
    diag.error(where, "[unit] worker \"" + worker +
                          "\": a relative worker needs a workers directory (--workers DIR)");
    return {};
  } else {
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::absolute(options.workersDir, ec);
    path = ((ec ? std::filesystem::path(options.workersDir) : dir) / worker).lexically_normal();
  }
  if (options.workerCheck == WorkerCheck::SKIP) return path;

  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    diag.error(where, "[unit] worker \"" + worker + "\": not found at " + path + " (" +
                          std::strerror(errno) + ")");
    return {};
  }
  if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) {
    diag.error(where,
               "[unit] worker \"" + worker + "\": " + path + " is not an executable regular file");
    return {};
  }
  return path;
}

}  // namespace

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
  static constexpr std::array<std::string_view, 5> KEYS = {"name", "worker", "instances",
                                                           "call_timeout_ms", "max_payload_bytes"};
  checkKnownKeys(*table, KEYS, "[unit]", diag);

  if (auto name = readString(*table, "name", "[unit]", Presence::REQUIRED, diag)) {
    if (isUnitName(*name)) {
      unit.name = *name;
      unit.where = diag.at(regionOf(*table, "name"));
    } else {
      diag.error(regionOf(*table, "name"),
                 "[unit] name \"" + *name + "\": expected 1 to 64 of a-z, 0-9 and '-'");
    }
  }
  if (auto worker = readString(*table, "worker", "[unit]", Presence::REQUIRED, diag)) {
    unit.workerName = *worker;
    unit.workerPath = resolveWorker(*worker, regionOf(*table, "worker"), options, diag);
  }
  unit.instances = static_cast<int>(readBounded(*table, "instances", 1, MAX_INSTANCES, 1, diag));
  unit.callTimeout = std::chrono::milliseconds(
      readBounded(*table, "call_timeout_ms", 1, MAX_CALL_TIMEOUT_MS, 5000, diag));
  unit.maxPayloadBytes = static_cast<size_t>(
      readBounded(*table, "max_payload_bytes", 1, MAX_PAYLOAD_BYTES_LIMIT, 1 << 20, diag));
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
  static constexpr std::array<std::string_view, 1> KEYS = {"read_only_paths"};
  checkKnownKeys(*table, KEYS, "[sandbox]", diag);
  auto paths = readStringList(*table, "read_only_paths", "[sandbox]", Presence::OPTIONAL, diag);
  if (!paths) return;
  for (const Located<std::string>& entry : *paths) {
    std::string error;
    std::optional<std::string> path = expandDefines(entry.value, options.defines, error);
    if (path && error.empty()) error = validateRequestPath(*path);
    struct stat st {};
    if (error.empty() && ::stat(path->c_str(), &st) != 0) {
      error = std::string("does not exist (") + std::strerror(errno) + ")";
    }
    if (!error.empty()) {
      diag.error(*entry.where, "[sandbox] read_only_paths \"" + entry.value + "\": " + error);
      continue;
    }
    unit.readOnlyPaths.push_back(*path);
  }
}

}  // namespace airlock::policy::_

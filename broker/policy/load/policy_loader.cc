#include "broker/policy/load/policy_loader.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "broker/policy/load/broker_section.h"
#include "broker/policy/load/lint.h"
#include "broker/policy/load/rule_section.h"
#include "broker/policy/load/toml_reader.h"
#include "broker/policy/load/unit_section.h"

namespace airlock::policy {

std::string Diagnostic::describe() const {
  // Messages quote the file's own values (ids, paths, keys): a control byte there is shown, not
  // sent to the terminal, and a newline cannot forge a line of the report.
  std::string shown;
  for (char c : message) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      snprintf(escaped, sizeof(escaped), "\\x%02x", byte);
      shown += escaped;
    } else {
      shown += c;
    }
  }
  return where.describe() + ": " + shown;
}

namespace _ {
namespace {

void fileError(LoadResult& result, const std::string& file, std::string message) {
  result.errors.push_back(Diagnostic{SourceLocation{file, 0, 0}, std::move(message)});
}

// Reads the whole file, bounded by MAX_POLICY_FILE_BYTES. Reports and returns nullopt on failure.
std::optional<std::string> readWholeFile(const std::string& path, LoadResult& result) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec) {
    fileError(result, path, "cannot read policy file: " + ec.message());
    return std::nullopt;
  }
  if (!std::filesystem::is_regular_file(status)) {
    fileError(result, path, "cannot read policy file: not a regular file");
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fileError(result, path, std::string("cannot read policy file: ") + std::strerror(errno));
    return std::nullopt;
  }
  std::string text;
  text.resize(MAX_POLICY_FILE_BYTES + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > MAX_POLICY_FILE_BYTES) {
    fileError(result, path,
              "policy file larger than " + std::to_string(MAX_POLICY_FILE_BYTES) + " bytes");
    return std::nullopt;
  }
  return text;
}

// Sorts the diagnostics added since `errorsBefore` into file order, as a reader walks the file.
void sortByPosition(LoadResult& result, size_t errorsBefore) {
  auto byPosition = [](const Diagnostic& a, const Diagnostic& b) {
    return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
  };
  std::stable_sort(result.errors.begin() + static_cast<std::ptrdiff_t>(errorsBefore),
                   result.errors.end(), byPosition);
}

// A file holding [broker]: that and nothing else.
bool loadBrokerFile(const toml::table& root, Diagnostics& diag, size_t errorsBefore,
                    LoadResult& result, BrokerSettings& broker) {
  for (auto&& [key, value] : root) {
    if (key.str() == "broker") continue;
    diag.error(key.source(), "\"" + std::string(key.str()) +
                                 "\" in a file with [broker]: that file holds only [broker] "
                                 "(each unit has a file of its own)");
  }
  readBrokerSection(*root.get("broker"), diag, broker);
  sortByPosition(result, errorsBefore);
  return result.errors.size() == errorsBefore;
}

// Parses the text of one file into `unit`, or into `broker` if it holds [broker] (then
// `isBrokerFile` is set); all problems go to `result`. Returns false if there were any.
bool parseInto(std::string_view text, const std::string& path, const LoadOptions& options,
               LoadResult& result, UnitPolicy& unit, BrokerSettings& broker, bool& isBrokerFile) {
  size_t errorsBefore = result.errors.size();
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(path));
  } catch (const toml::parse_error& e) {
    // A syntax error is a value of the input, not a bug: convert it at the library boundary.
    result.errors.push_back(Diagnostic{SourceLocation{path, static_cast<int>(e.source().begin.line),
                                                      static_cast<int>(e.source().begin.column)},
                                       "TOML syntax error: " + std::string(e.description())});
    return false;
  }
  Diagnostics diag(path, result.errors, result.warnings);
  isBrokerFile = root.contains("broker");
  if (isBrokerFile) return loadBrokerFile(root, diag, errorsBefore, result, broker);
  unit.file = path;
  for (auto&& [key, value] : root) {
    std::string_view k = key.str();
    if (k == "unit" || k == "sandbox" || k == "limits" || k == "resources" || k == "rule") continue;
    diag.error(key.source(), "unknown top-level key or table \"" + std::string(k) +
                                 "\" (expected [unit], [sandbox], [limits], [resources], [[rule]]; or [broker] alone)");
  }
  readUnitSection(root.get("unit"), options, diag, unit);
  readSandboxSection(root.get("sandbox"), options, diag, unit);
  readLimitsSection(root.get("limits"), diag, unit);
  readResourcesSection(root.get("resources"), diag, unit);
  readRules(root.get("rule"), options, diag, unit);
  sortByPosition(result, errorsBefore);
  bool ok = result.errors.size() == errorsBefore;
  if (ok) {
    indexRules(unit);
    lintUnit(unit, result.warnings);
  }
  return ok;
}

// parseInto for the file at `path`, read whole first.
bool loadInto(const std::string& path, const LoadOptions& options, LoadResult& result,
              UnitPolicy& unit, BrokerSettings& broker, bool& isBrokerFile) {
  std::optional<std::string> text = readWholeFile(path, result);
  if (!text) return false;
  return parseInto(*text, path, options, result, unit, broker, isBrokerFile);
}

// One file's result: its unit or its [broker] settings if it parsed without error.
LoadResult singleFileResult(LoadResult result, bool ok, UnitPolicy unit, BrokerSettings broker,
                            bool isBrokerFile) {
  if (ok) {
    if (isBrokerFile) {
      result.broker = std::move(broker);
    } else {
      result.units.push_back(std::move(unit));
    }
  }
  return result;
}

}  // namespace
}  // namespace _

LoadResult loadPolicyFile(const std::string& path, const LoadOptions& options) {
  LoadResult result;
  UnitPolicy unit;
  BrokerSettings broker;
  bool isBrokerFile = false;
  bool ok = _::loadInto(path, options, result, unit, broker, isBrokerFile);
  return _::singleFileResult(std::move(result), ok, std::move(unit), std::move(broker),
                             isBrokerFile);
}

LoadResult loadPolicyText(std::string_view text, const std::string& path,
                          const LoadOptions& options) {
  LoadResult result;
  if (text.size() > MAX_POLICY_FILE_BYTES) {
    _::fileError(result, path,
                 "policy file larger than " + std::to_string(MAX_POLICY_FILE_BYTES) + " bytes");
    return result;
  }
  UnitPolicy unit;
  BrokerSettings broker;
  bool isBrokerFile = false;
  bool ok = _::parseInto(text, path, options, result, unit, broker, isBrokerFile);
  return _::singleFileResult(std::move(result), ok, std::move(unit), std::move(broker),
                             isBrokerFile);
}

LoadResult loadPolicyDir(const std::string& dir, const LoadOptions& options) {
  LoadResult result;
  std::error_code ec;
  std::vector<std::string> files;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || it->path().extension() != ".toml") continue;
    files.push_back(it->path().string());
  }
  if (ec) {
    _::fileError(result, dir, "cannot read policy directory: " + ec.message());
    return result;
  }
  if (files.empty()) {
    _::fileError(result, dir, "no *.toml policy files in the policy directory");
    return result;
  }
  std::sort(files.begin(), files.end());

  std::vector<UnitPolicy> named;  // every unit whose name parsed, valid or not, to find duplicates
  std::string brokerFile;         // the file holding [broker], to find a second one
  SourceLocation brokerWhere;
  for (const std::string& file : files) {
    UnitPolicy unit;
    BrokerSettings broker;
    bool isBrokerFile = false;
    bool ok = _::loadInto(file, options, result, unit, broker, isBrokerFile);
    if (isBrokerFile) {
      if (!brokerFile.empty()) {
        result.errors.push_back(Diagnostic{
            broker.where, "[broker] is also defined at " + brokerWhere.describe() +
                              " (one file in the policy directory holds it)"});
      } else {
        brokerFile = file;
        brokerWhere = broker.where;
        if (ok) result.broker = std::move(broker);
      }
      continue;
    }
    if (unit.name.empty()) continue;
    auto first = std::find_if(named.begin(), named.end(),
                              [&unit](const UnitPolicy& other) { return other.name == unit.name; });
    if (first != named.end()) {
      result.errors.push_back(Diagnostic{
          unit.where, "unit \"" + unit.name + "\" is also defined at " + first->where.describe() +
                          " (unit names must be unique across the policy directory)"});
      continue;
    }
    named.push_back(unit);
    if (ok) result.units.push_back(std::move(unit));
  }
  if (result.ok()) lintUnitSet(result.units, result.warnings);
  return result;
}

}  // namespace airlock::policy

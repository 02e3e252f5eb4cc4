#include "broker/policy/load/learn_section.h"

#include "broker/policy/load/rule_keys.h"
#include "broker/policy/model/dangerous.h"

namespace airlock::policy::_ {

namespace {

// The ids learn grants carry: never a rule's (rule ids are checked against these at load:
// rule_section.cc), and what `policy explain` and messages name them by.
constexpr char LEARN_PATHS_ID[] = "learn_paths";
constexpr char LEARN_HOSTS_ID[] = "learn_hosts";

// One allow grant per fs.* operation for `pattern`: everything beneath a data directory; only
// reading beneath a system directory, where a learned write could change the system itself.
void addPathGrants(const PathPattern& pattern, const SourceLocation& where,
                   const std::string& justification, std::vector<Rule>& grants) {
  bool system = !systemDirectoryOf(pattern.root()).empty();
  for (Operation op : ALL_OPERATIONS) {
    const OperationRow& row = operationRow(op);
    if (!row.decidedByPath()) continue;
    if (system && row.fsWrite == FsWrite::ALWAYS) continue;
    Rule grant;
    grant.id = LEARN_PATHS_ID;
    grant.effect = Effect::ALLOW;
    setOperation(grant, op);
    grant.where = where;
    grant.fs().path = pattern;
    if (row.matching == Matching::PATH_AND_MODES) {
      if (system) {
        grant.fs().modes.add(OpenMode::READ);
      } else {
        for (OpenMode mode : ALL_OPEN_MODES) grant.fs().modes.add(mode);
      }
    }
    grant.justification = justification;
    grants.push_back(std::move(grant));
  }
}

void readLearnPaths(const toml::table& table, const LoadOptions& options, Diagnostics& diag,
                    UnitPolicy& unit) {
  auto paths = readStringList(table, "learn_paths", "[unit]", Presence::OPTIONAL, diag);
  if (!paths) return;
  for (const Located<std::string>& entry : *paths) {
    std::string error;
    std::optional<PathPattern> pattern = expandPattern(entry.value, options, error);
    if (!pattern) {
      diag.error(*entry.where, "[unit] learn_paths " + error);
    } else if (pattern->root() == "/") {
      diag.error(*entry.where, "[unit] learn_paths \"" + entry.value +
                                   "\" is rooted at /: learning must be bounded to the "
                                   "directories the library is meant to use");
    } else {
      addPathGrants(*pattern, diag.at(*entry.where), unit.learnJustification, unit.learnGrants);
    }
  }
}

void readLearnHosts(const toml::table& table, Diagnostics& diag, UnitPolicy& unit) {
  if (!table.contains("learn_hosts")) return;
  Rule grant;
  grant.id = LEARN_HOSTS_ID;
  grant.effect = Effect::ALLOW;
  setOperation(grant, Operation::NET_CONNECT);
  grant.where = diag.at(regionOf(table, "learn_hosts"));
  grant.net().ports.push_back(PortRange{1, 65535});
  grant.justification = unit.learnJustification;
  RuleReader reader{table, "[unit]", diag};
  size_t errorsBefore = diag.errorCount();
  readHosts(reader, "learn_hosts", grant.net());
  for (const IpBlock& block : grant.net().hostBlocks) {
    if (block.isEverything()) {
      diag.error(regionOf(table, "learn_hosts"),
                 "[unit] learn_hosts \"" + block.describe() +
                     "\" is every address: learning must be bounded to the hosts the library "
                     "is meant to reach");
    }
  }
  if (diag.errorCount() == errorsBefore) unit.learnGrants.push_back(std::move(grant));
}

}  // namespace

void readLearnKeys(const toml::table& table, const LoadOptions& options, Diagnostics& diag,
                   UnitPolicy& unit) {
  if (auto why = readString(table, "justification", "[unit]", Presence::OPTIONAL, diag)) {
    if (!saysWhy(*why)) {
      diag.error(regionOf(table, "justification"),
                 "[unit] justification must say why in visible text, not be empty");
    } else {
      unit.learnJustification = *why;
    }
  }
  auto mode = readString(table, "mode", "[unit]", Presence::OPTIONAL, diag);
  if (mode) {
    unit.modeWhere = diag.at(regionOf(table, "mode"));
    if (*mode == "learn") {
      unit.mode = UnitMode::LEARN;
    } else if (*mode != "enforce") {
      diag.error(regionOf(table, "mode"),
                 "[unit] mode \"" + *mode + "\": expected \"enforce\" or \"learn\"");
      return;
    }
  }
  if (!unit.learning()) {
    for (std::string_view key : {"learn_paths", "learn_hosts"}) {
      if (table.contains(key)) {
        diag.error(keyRegion(table, key), "[unit] " + std::string(key) +
                                              " has no effect without mode = \"learn\"");
      }
    }
    if (table.contains("justification")) {
      diag.error(keyRegion(table, "justification"),
                 "[unit] justification justifies mode = \"learn\"; this unit does not learn");
    }
    return;
  }
  if (unit.learnJustification.empty()) {
    diag.error(regionOf(table, "mode"),
               "[unit] mode = \"learn\" performs requests no rule allows: a dangerous allowance "
               "needs justification = \"...\" in [unit] saying why");
  }
  if (!table.contains("learn_paths") && !table.contains("learn_hosts")) {
    diag.error(regionOf(table, "mode"),
               "[unit] mode = \"learn\" needs learn_paths (and/or learn_hosts): the bounds of "
               "what learning may perform");
  }
  readLearnPaths(table, options, diag, unit);
  readLearnHosts(table, diag, unit);
}

}  // namespace airlock::policy::_

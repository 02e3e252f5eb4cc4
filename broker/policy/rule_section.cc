#include "broker/policy/rule_section.h"

#include <algorithm>
#include <array>
#include <map>

#include "broker/policy/dangerous.h"
#include "broker/policy/decide.h"
#include "broker/policy/expand_defines.h"
#include "capnp/host_auth.h"

namespace airlock::policy::_ {

namespace {

constexpr std::array<std::string_view, 15> RULE_KEYS = {
    "id",   "allow", "deny", "path", "mode",      "caller", "caller_uid",   "caller_unit",
    "method", "name", "host", "port", "unix_path", "unit",   "justification"};

// A justification is a reviewer's sentence or two, not a document.
constexpr size_t MAX_JUSTIFICATION_BYTES = 2000;

// The keys each operation's rules take (besides id and allow/deny).
std::span<const std::string_view> keysOf(Operation op) {
  static constexpr std::array<std::string_view, 2> FS_OPEN_KEYS = {"path", "mode"};
  static constexpr std::array<std::string_view, 4> CALL_KEYS = {"caller", "caller_uid",
                                                                 "caller_unit", "method"};
  static constexpr std::array<std::string_view, 1> SECRETS_GET_KEYS = {"name"};
  static constexpr std::array<std::string_view, 1> FS_PATH_KEYS = {"path"};
  static constexpr std::array<std::string_view, 3> NET_CONNECT_KEYS = {"host", "port",
                                                                       "unix_path"};
  static constexpr std::array<std::string_view, 2> INVOKE_KEYS = {"unit", "method"};
  switch (op) {
    case Operation::FS_OPEN: return FS_OPEN_KEYS;
    case Operation::CALL: return CALL_KEYS;
    case Operation::SECRETS_GET: return SECRETS_GET_KEYS;
    case Operation::FS_STAT:
    case Operation::FS_LIST:
    case Operation::FS_MKDIR:
    case Operation::FS_UNLINK:
    case Operation::FS_RENAME:
    case Operation::FS_SYMLINK: return FS_PATH_KEYS;
    case Operation::NET_CONNECT: return NET_CONNECT_KEYS;
    case Operation::INVOKE: return INVOKE_KEYS;
  }
  return {};
}

// "fs.open, call, ...": every operation a rule may name, for messages.
std::string operationList() {
  std::string out;
  for (Operation op : ALL_OPERATIONS) {
    out += (out.empty() ? "" : ", ") + std::string(operationName(op));
  }
  return out;
}

// uid_t is 32 bits; (uid_t)-1 means "no change" to set*uid and is never a real caller.
constexpr int64_t MAX_UID = 4294967294;

bool isRuleId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

const toml::source_region& keyRegion(const toml::table& table, std::string_view key) {
  for (auto&& [k, v] : table) {
    if (k.str() == key) return k.source();
  }
  return table.source();
}

std::optional<OpenMode> parseOpenMode(std::string_view name) {
  for (OpenMode mode : ALL_OPEN_MODES) {
    if (name == openModeName(mode)) return mode;
  }
  return std::nullopt;
}

// One rule being read: the table and its name in messages.
struct RuleReader {
  const toml::table& table;
  std::string context;  // `rule "id"` or `rule #3`
  Diagnostics& diag;

  void error(const toml::source_region& where, const std::string& message) {
    diag.error(where, context + ": " + message);
  }
};

void readEffect(RuleReader& r, Rule& rule) {
  const toml::node* allow = r.table.get("allow");
  const toml::node* deny = r.table.get("deny");
  if (allow != nullptr && deny != nullptr) {
    r.error(keyRegion(r.table, "deny"), "has both allow and deny; a rule has exactly one");
    return;
  }
  if (allow == nullptr && deny == nullptr) {
    r.error(r.table.source(),
            "missing allow = \"OP\" or deny = \"OP\" (OP: " + operationList() + ")");
    return;
  }
  rule.effect = allow != nullptr ? Effect::ALLOW : Effect::DENY;
  const std::string key = allow != nullptr ? "allow" : "deny";
  std::optional<std::string> op = readString(r.table, key, r.context, Presence::REQUIRED, r.diag);
  if (!op) return;
  for (Operation known : ALL_OPERATIONS) {
    if (*op == operationName(known)) {
      rule.operation = known;
      return;
    }
  }
  r.error(regionOf(r.table, key),
          "unknown operation \"" + *op + "\" (expected " + operationList() + ")");
}

// A path pattern key (`path`, `unix_path`), ${name} expanded first.
void readPattern(RuleReader& r, const LoadOptions& options, std::string_view key,
                 PathPattern& out) {
  std::optional<std::string> text = readString(r.table, key, r.context, Presence::REQUIRED, r.diag);
  if (!text) return;
  std::string error;
  std::optional<std::string> expanded = expandDefines(*text, options.defines, error);
  std::optional<PathPattern> pattern;
  if (expanded) pattern = PathPattern::parse(*expanded, error);
  if (pattern) {
    out = std::move(*pattern);
  } else {
    std::string shown = "\"" + *text + "\"";
    if (expanded && *expanded != *text) shown += " (expanded to \"" + *expanded + "\")";
    r.error(regionOf(r.table, key), std::string(key) + " " + shown + ": " + error);
  }
}

// `path` of any fs.* rule: a pattern, after ${name} expansion.
void readPath(RuleReader& r, const LoadOptions& options, Rule& rule) {
  readPattern(r, options, "path", rule.path);
}

void readFsOpen(RuleReader& r, const LoadOptions& options, Rule& rule) {
  readPath(r, options, rule);
  if (auto modes = readStringList(r.table, "mode", r.context, Presence::REQUIRED, r.diag)) {
    for (const Located<std::string>& entry : *modes) {
      std::optional<OpenMode> mode = parseOpenMode(entry.value);
      if (!mode) {
        r.error(*entry.where, "unknown mode \"" + entry.value +
                                  "\" (expected read, write, create, truncate, append)");
      } else if (rule.modes.has(*mode)) {
        r.error(*entry.where, "mode \"" + entry.value + "\" is listed twice");
      } else {
        rule.modes.add(*mode);
      }
    }
  }
}

// `caller` names authenticated client identities (capnp/host_auth.h), `caller_unit` units that
// invoke through the broker. A rule naming neither would name nobody, so one is required; and
// `caller_uid` narrows clients only, so it needs `caller`.
void readCallerNames(RuleReader& r, Rule& rule) {
  bool hasUnits = r.table.get("caller_unit") != nullptr;
  if (r.table.get("caller") == nullptr && r.table.get("caller_uid") != nullptr) {
    r.error(r.table.source(),
            "missing required key \"caller\": call rules name client identities "
            "(caller = [\"web\"], keys from airlock keygen --client); caller_uid alone is no "
            "longer accepted and now only narrows a caller to uids");
    return;
  }
  if (r.table.get("caller") == nullptr && !hasUnits) {
    r.error(r.table.source(),
            "missing required key \"caller\" (or \"caller_unit\" for units that invoke)");
    return;
  }
  auto names = readStringList(r.table, "caller", r.context, Presence::OPTIONAL, r.diag);
  if (!names) return;
  for (const Located<std::string>& entry : *names) {
    std::string refused = rpc::validateClientName(entry.value);
    if (!refused.empty()) {
      r.error(*entry.where, "caller \"" + entry.value + "\": " + refused);
    } else if (std::find(rule.callerNames.begin(), rule.callerNames.end(), entry.value) !=
               rule.callerNames.end()) {
      r.error(*entry.where, "caller \"" + entry.value + "\" is listed twice");
    } else {
      rule.callerNames.push_back(entry.value);
    }
  }
}

// A list of unit names under `key` (a call rule's caller_unit, an invoke rule's unit), each
// valid and listed once.
void readUnitNames(RuleReader& r, std::string_view key, Presence presence,
                   std::vector<std::string>& out) {
  auto names = readStringList(r.table, key, r.context, presence, r.diag);
  if (!names) return;
  for (const Located<std::string>& entry : *names) {
    std::string refused = validateUnitName(entry.value);
    std::string what = std::string(key) + " \"" + entry.value + "\"";
    if (!refused.empty()) {
      r.error(*entry.where, what + ": " + refused);
    } else if (std::find(out.begin(), out.end(), entry.value) != out.end()) {
      r.error(*entry.where, what + " is listed twice");
    } else {
      out.push_back(entry.value);
    }
  }
}

void readCallerUids(RuleReader& r, Rule& rule) {
  auto uids = readIntegerList(r.table, "caller_uid", r.context, Presence::OPTIONAL, r.diag);
  if (!uids) return;
  for (const Located<int64_t>& entry : *uids) {
    if (entry.value < 0 || entry.value > MAX_UID) {
      r.error(*entry.where, "caller_uid " + std::to_string(entry.value) + " is not a uid (0.." +
                                std::to_string(MAX_UID) + ")");
      continue;
    }
    auto uid = static_cast<uid_t>(entry.value);
    if (std::find(rule.callerUids.begin(), rule.callerUids.end(), uid) != rule.callerUids.end()) {
      r.error(*entry.where, "caller_uid " + std::to_string(uid) + " is listed twice");
      continue;
    }
    rule.callerUids.push_back(uid);
  }
}

// `method`: names or "*", each listed once (call and invoke rules).
void readMethods(RuleReader& r, Rule& rule) {
  if (auto methods = readStringList(r.table, "method", r.context, Presence::REQUIRED, r.diag)) {
    for (const Located<std::string>& entry : *methods) {
      std::string refused = entry.value == "*" ? "" : validateMethodName(entry.value);
      if (!refused.empty()) {
        r.error(*entry.where, "method \"" + entry.value + "\": " + refused + " (or \"*\" for any)");
      } else if (std::find(rule.methods.begin(), rule.methods.end(), entry.value) !=
                 rule.methods.end()) {
        r.error(*entry.where, "method \"" + entry.value + "\" is listed twice");
      } else {
        rule.methods.push_back(entry.value);
      }
    }
  }
}

void readCall(RuleReader& r, Rule& rule) {
  readCallerNames(r, rule);
  readCallerUids(r, rule);
  readUnitNames(r, "caller_unit", Presence::OPTIONAL, rule.callerUnits);
  readMethods(r, rule);
}

void readInvoke(RuleReader& r, Rule& rule) {
  readUnitNames(r, "unit", Presence::REQUIRED, rule.invokeUnits);
  readMethods(r, rule);
}

void readSecretsGet(RuleReader& r, Rule& rule) {
  auto names = readStringList(r.table, "name", r.context, Presence::REQUIRED, r.diag);
  if (!names) return;
  for (const Located<std::string>& entry : *names) {
    std::string refused = validateSecretName(entry.value);
    if (!refused.empty()) {
      r.error(*entry.where, "name \"" + entry.value + "\": " + refused);
    } else if (std::find(rule.secretNames.begin(), rule.secretNames.end(), entry.value) !=
               rule.secretNames.end()) {
      r.error(*entry.where, "name \"" + entry.value + "\" is listed twice");
    } else {
      rule.secretNames.push_back(entry.value);
    }
  }
}

// `host`: exact lowercase names, IP literals and CIDR blocks, told apart by their text.
void readHosts(RuleReader& r, Rule& rule) {
  auto hosts = readStringList(r.table, "host", r.context, Presence::REQUIRED, r.diag);
  if (!hosts) return;
  for (const Located<std::string>& entry : *hosts) {
    const std::string& text = entry.value;
    bool looksNumeric = text.find_first_of("/:") != std::string::npos || IpAddress::parse(text);
    std::string error;
    if (looksNumeric) {
      std::optional<IpBlock> block = IpBlock::parse(text, error);
      if (!block) {
        r.error(*entry.where, "host \"" + text + "\": " + error);
      } else if (std::find(rule.hostBlocks.begin(), rule.hostBlocks.end(), *block) !=
                 rule.hostBlocks.end()) {
        r.error(*entry.where, "host \"" + text + "\" is listed twice");
      } else {
        rule.hostBlocks.push_back(*block);
      }
      continue;
    }
    error = validateRuleHostName(text);
    if (!error.empty()) {
      r.error(*entry.where, "host \"" + text + "\": " + error);
    } else if (std::find(rule.hostNames.begin(), rule.hostNames.end(), text) !=
               rule.hostNames.end()) {
      r.error(*entry.where, "host \"" + text + "\" is listed twice");
    } else {
      rule.hostNames.push_back(text);
    }
  }
}

// `port`: integers and "LO-HI" strings in one array, so it is read element by element.
void readPorts(RuleReader& r, Rule& rule) {
  const toml::node* node = r.table.get("port");
  const toml::array* array = node != nullptr ? node->as_array() : nullptr;
  if (node == nullptr) {
    r.error(r.table.source(), "missing required key \"port\" (e.g. port = [443, \"8000-8999\"])");
    return;
  }
  if (array == nullptr || array->empty()) {
    r.error(node->source(), "port must be a non-empty array of ports and \"LO-HI\" ranges, got " +
                                std::string(array ? "an empty array" : typeName(*node)));
    return;
  }
  for (const toml::node& element : *array) {
    std::optional<PortRange> range;
    std::string error = "expected a port number 1..65535 or a \"LO-HI\" string, got " +
                        std::string(typeName(element));
    if (auto number = element.value_exact<int64_t>()) {
      if (*number >= 1 && *number <= 65535) {
        range = PortRange{static_cast<uint16_t>(*number), static_cast<uint16_t>(*number)};
      } else {
        error = "port " + std::to_string(*number) + " is out of range 1..65535";
      }
    } else if (auto text = element.value_exact<std::string>()) {
      range = parsePortRange(*text, error);
      if (!range) error = "port \"" + *text + "\": " + error;
    }
    if (!range) {
      r.error(element.source(), error);
    } else if (std::find(rule.ports.begin(), rule.ports.end(), *range) != rule.ports.end()) {
      r.error(element.source(), "port " + range->describe() + " is listed twice");
    } else {
      rule.ports.push_back(*range);
    }
  }
}

// A rule is either TCP (host and port) or a Unix socket (unix_path): one rule mixing them would
// read as a restriction that applies to neither.
void readNetConnect(RuleReader& r, const LoadOptions& options, Rule& rule) {
  if (r.table.get("unix_path") != nullptr) {
    for (std::string_view key : {"host", "port"}) {
      if (r.table.get(key) == nullptr) continue;
      r.error(keyRegion(r.table, key),
              "key \"" + std::string(key) + "\" next to unix_path: a net.connect rule has either "
              "host and port (TCP) or unix_path (a Unix socket)");
    }
    readPattern(r, options, "unix_path", rule.unixPath);
    return;
  }
  if (r.table.get("host") == nullptr && r.table.get("port") == nullptr) {
    r.error(r.table.source(), "missing required keys: a net.connect rule has host and port (TCP) "
                              "or unix_path (a Unix socket)");
    return;
  }
  readHosts(r, rule);
  readPorts(r, rule);
}

// Keys of other operations (e.g. `path` on a call rule) are errors, not ignored: a reader would
// assume they restrict the rule.
// The operations whose rules take `key`: "call", or "fs.*" for `path`, which every fs.* takes.
std::string ownersOf(std::string_view key) {
  std::vector<Operation> owners;
  for (Operation op : ALL_OPERATIONS) {
    auto keys = keysOf(op);
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) owners.push_back(op);
  }
  bool allFs = std::all_of(owners.begin(), owners.end(), isFsOperation);
  if (owners.size() > 1 && allFs) return "fs.*";
  std::string out;
  for (Operation op : owners) out += (out.empty() ? "" : ", ") + std::string(operationName(op));
  return out;
}

void rejectKeysOfOthers(RuleReader& r, Operation op) {
  auto own = keysOf(op);
  for (std::string_view key : RULE_KEYS) {
    if (std::find(own.begin(), own.end(), key) != own.end()) continue;
    if (r.table.get(key) == nullptr) continue;
    std::string owners = ownersOf(key);
    if (owners.empty()) continue;  // id, allow, deny, justification: every rule's
    r.error(keyRegion(r.table, key), "key \"" + std::string(key) + "\" applies only to " +
                                         owners + " rules, not " + operationName(op));
  }
}

void readOperation(RuleReader& r, const LoadOptions& options, Rule& rule) {
  switch (rule.operation) {
    case Operation::FS_OPEN: readFsOpen(r, options, rule); break;
    case Operation::CALL: readCall(r, rule); break;
    case Operation::SECRETS_GET: readSecretsGet(r, rule); break;
    case Operation::FS_STAT:
    case Operation::FS_LIST:
    case Operation::FS_MKDIR:
    case Operation::FS_UNLINK:
    case Operation::FS_RENAME:
    case Operation::FS_SYMLINK: readPath(r, options, rule); break;
    case Operation::NET_CONNECT: readNetConnect(r, options, rule); break;
    case Operation::INVOKE: readInvoke(r, rule); break;
  }
  rejectKeysOfOthers(r, rule.operation);
}

// A dangerous allowance (dangerous.h) must carry a justification; any rule may.
void readJustification(RuleReader& r, Rule& rule) {
  std::optional<std::string> text =
      readString(r.table, "justification", r.context, Presence::OPTIONAL, r.diag);
  if (text) {
    if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
      r.error(regionOf(r.table, "justification"), "justification must say why, not be empty");
      return;
    }
    if (text->size() > MAX_JUSTIFICATION_BYTES) {
      r.error(regionOf(r.table, "justification"),
              "justification longer than " + std::to_string(MAX_JUSTIFICATION_BYTES) + " bytes");
      return;
    }
    rule.justification = *text;
  }
  std::string danger = dangerousAllowance(rule);
  if (!danger.empty() && rule.justification.empty()) {
    r.error(r.table.source(), danger + ": a dangerous allowance needs justification = \"...\" "
                              "saying why (the security team's review; see docs/policy.md)");
  }
}

// Reads the id; returns the context string for messages.
std::string readId(const toml::table& table, size_t index, Diagnostics& diag, Rule& rule) {
  std::string fallback = "rule #" + std::to_string(index);
  std::optional<std::string> id = readString(table, "id", fallback, Presence::REQUIRED, diag);
  if (!id) return fallback;
  if (!isRuleId(*id)) {
    diag.error(regionOf(table, "id"),
               fallback + ": id \"" + *id + "\": expected 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'");
    return fallback;
  }
  if (*id == DEFAULT_DENY_RULE_ID) {
    diag.error(regionOf(table, "id"),
               fallback + ": id \"" + *id + "\" is reserved for the implicit final rule");
  }
  rule.id = *id;
  return "rule \"" + *id + "\"";
}

}  // namespace

void readRules(const toml::node* node, const LoadOptions& options, Diagnostics& diag,
               UnitPolicy& unit) {
  if (node == nullptr) return;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    diag.error(node->source(), "rule must be an array of tables (write [[rule]]), got " +
                                   std::string(typeName(*node)));
    return;
  }
  std::map<std::string, SourceLocation> seenIds;
  size_t index = 0;
  for (const toml::node& element : *array) {
    ++index;
    const toml::table* table = element.as_table();
    if (table == nullptr) {
      diag.error(element.source(), "rule #" + std::to_string(index) + " must be a table, got " +
                                       std::string(typeName(element)));
      continue;
    }
    size_t errorsBefore = diag.errorCount();
    Rule rule;
    rule.where = diag.at(table->source());
    RuleReader r{*table, readId(*table, index, diag, rule), diag};
    checkKnownKeys(*table, RULE_KEYS, r.context, diag);
    if (!rule.id.empty()) {
      auto [seen, inserted] = seenIds.emplace(rule.id, diag.at(regionOf(*table, "id")));
      if (!inserted) {
        r.error(regionOf(*table, "id"),
                "duplicate rule id (first at " + seen->second.describe() + ")");
      }
    }
    size_t beforeEffect = diag.errorCount();
    readEffect(r, rule);
    if (diag.errorCount() == beforeEffect) readOperation(r, options, rule);
    if (diag.errorCount() == errorsBefore) readJustification(r, rule);
    if (diag.errorCount() == errorsBefore) unit.rules.push_back(std::move(rule));
  }
}

}  // namespace airlock::policy::_

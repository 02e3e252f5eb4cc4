#include "broker/policy/load/rule_section.h"

#include <algorithm>
#include <map>
#include <vector>

#include "broker/policy/decide/decide.h"
#include "broker/policy/load/rule_keys.h"
#include "broker/policy/model/dangerous.h"

namespace airlock::policy::_ {

namespace {

// A justification is a reviewer's sentence or two, not a document.
constexpr size_t MAX_JUSTIFICATION_BYTES = 2000;

// Every key a rule may have, in the order messages list them: the keys any rule takes around the
// keys of each operation's rules, in table order, each once.
std::vector<std::string_view> knownRuleKeys() {
  std::vector<std::string_view> keys = {"id", "allow", "deny"};
  for (Operation op : ALL_OPERATIONS) {
    for (std::string_view key : operationRow(op).ruleKeys) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
  }
  keys.push_back("justification");
  return keys;
}

bool isRuleId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

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
  if (std::optional<Operation> named = operationNamed(*op)) {
    setOperation(rule, *named);
    return;
  }
  r.error(regionOf(r.table, key),
          "unknown operation \"" + *op + "\" (expected " + operationList() + ")");
}

// Keys of other operations (e.g. `path` on a call rule) are errors, not ignored: a reader would
// assume they restrict the rule.
// The operations whose rules take `key`: "call", or "fs.*" for `path`, which every fs.* takes.
std::string ownersOf(std::string_view key) {
  std::vector<Operation> owners;
  for (Operation op : ALL_OPERATIONS) {
    auto keys = operationRow(op).ruleKeys;
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) owners.push_back(op);
  }
  // Every fs.* operation taking the key: "fs.*" for them all (`path`), then the others.
  size_t fs = static_cast<size_t>(std::count_if(owners.begin(), owners.end(), isFsOperation));
  bool allFsTakeIt = fs > 1;
  std::string out = allFsTakeIt ? "fs.*" : "";
  for (Operation op : owners) {
    if (allFsTakeIt && isFsOperation(op)) continue;
    out += (out.empty() ? "" : ", ") + std::string(operationName(op));
  }
  return out;
}

void rejectKeysOfOthers(RuleReader& r, std::span<const std::string_view> knownKeys,
                        Operation op) {
  auto own = operationRow(op).ruleKeys;
  for (std::string_view key : knownKeys) {
    if (std::find(own.begin(), own.end(), key) != own.end()) continue;
    if (r.table.get(key) == nullptr) continue;
    std::string owners = ownersOf(key);
    if (owners.empty()) continue;  // id, allow, deny, justification: every rule's
    r.error(keyRegion(r.table, key), "key \"" + std::string(key) + "\" applies only to " +
                                         owners + " rules, not " + operationName(op));
  }
}

void readOperation(RuleReader& r, const LoadOptions& options,
                   std::span<const std::string_view> knownKeys, Rule& rule) {
  operationRow(rule.operation).readRuleKeys(r, options, rule);
  rejectKeysOfOthers(r, knownKeys, rule.operation);
}

// A dangerous allowance (dangerous.h) must carry a justification; any rule may.
void readJustification(RuleReader& r, Rule& rule) {
  std::optional<std::string> text =
      readString(r.table, "justification", r.context, Presence::OPTIONAL, r.diag);
  if (text) {
    if (!saysWhy(*text)) {
      r.error(regionOf(r.table, "justification"), "justification must say why in visible text, not be empty");
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
  const std::vector<std::string_view> knownKeys = knownRuleKeys();
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
    RuleReader r{*table, readId(*table, index, diag, rule), diag, unit.workerReuse.reuse};
    checkKnownKeys(*table, knownKeys, r.context, diag);
    if (!rule.id.empty()) {
      auto [seen, inserted] = seenIds.emplace(rule.id, diag.at(regionOf(*table, "id")));
      if (!inserted) {
        r.error(regionOf(*table, "id"),
                "duplicate rule id (first at " + seen->second.describe() + ")");
      }
    }
    size_t beforeEffect = diag.errorCount();
    readEffect(r, rule);
    if (diag.errorCount() == beforeEffect) readOperation(r, options, knownKeys, rule);
    if (diag.errorCount() == errorsBefore) readJustification(r, rule);
    if (diag.errorCount() == errorsBefore) unit.rules.push_back(std::move(rule));
  }
}

}  // namespace airlock::policy::_

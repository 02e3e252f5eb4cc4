#include "broker/policy/load/rule_keys.h"

#include <algorithm>
#include <optional>

#include "broker/policy/load/expand_defines.h"
#include "capnp/host_auth.h"

namespace airlock::policy::_ {

std::optional<PathPattern> expandPattern(const std::string& text, const LoadOptions& options,
                                         std::string& error) {
  std::optional<std::string> expanded = expandDefines(text, options.defines, error);
  std::optional<PathPattern> pattern;
  if (expanded) pattern = PathPattern::parse(*expanded, error);
  if (pattern) return pattern;
  std::string shown = "\"" + text + "\"";
  if (expanded && *expanded != text) shown += " (expanded to \"" + *expanded + "\")";
  error = shown + ": " + error;
  return std::nullopt;
}

namespace {

// uid_t is 32 bits; (uid_t)-1 means "no change" to set*uid and is never a real caller.
constexpr int64_t MAX_UID = 4294967294;

std::optional<OpenMode> parseOpenMode(std::string_view name) {
  for (OpenMode mode : ALL_OPEN_MODES) {
    if (name == openModeName(mode)) return mode;
  }
  return std::nullopt;
}

// A path pattern key (`path`, `unix_path`), ${name} expanded first.
void readPattern(RuleReader& r, const LoadOptions& options, std::string_view key,
                 PathPattern& out) {
  std::optional<std::string> text = readString(r.table, key, r.context, Presence::REQUIRED, r.diag);
  if (!text) return;
  std::string error;
  std::optional<PathPattern> pattern = expandPattern(*text, options, error);
  if (pattern) {
    out = std::move(*pattern);
  } else {
    r.error(regionOf(r.table, key), std::string(key) + " " + error);
  }
}

// `caller` names authenticated client identities (capnp/host_auth.h), `caller_unit` units that
// invoke through the broker. A rule naming neither would name nobody, so one is required; and
// `caller_uid` narrows clients only, so it needs `caller`.
void readCallerNames(RuleReader& r, CallerKeys& callers) {
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
    } else if (std::find(callers.callerNames.begin(), callers.callerNames.end(), entry.value) !=
               callers.callerNames.end()) {
      r.error(*entry.where, "caller \"" + entry.value + "\" is listed twice");
    } else {
      callers.callerNames.push_back(entry.value);
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
    Refusal refused = validateUnitName(entry.value);
    std::string what = std::string(key) + " \"" + entry.value + "\"";
    if (refused.refuses()) {
      r.error(*entry.where, what + ": " + refused.why());
    } else if (std::find(out.begin(), out.end(), entry.value) != out.end()) {
      r.error(*entry.where, what + " is listed twice");
    } else {
      out.push_back(entry.value);
    }
  }
}

void readCallerUids(RuleReader& r, CallerKeys& callers) {
  auto uids = readIntegerList(r.table, "caller_uid", r.context, Presence::OPTIONAL, r.diag);
  if (!uids) return;
  for (const Located<int64_t>& entry : *uids) {
    if (entry.value < 0 || entry.value > MAX_UID) {
      r.error(*entry.where, "caller_uid " + std::to_string(entry.value) + " is not a uid (0.." +
                                std::to_string(MAX_UID) + ")");
      continue;
    }
    auto uid = static_cast<uid_t>(entry.value);
    if (std::find(callers.callerUids.begin(), callers.callerUids.end(), uid) != callers.callerUids.end()) {
      r.error(*entry.where, "caller_uid " + std::to_string(uid) + " is listed twice");
      continue;
    }
    callers.callerUids.push_back(uid);
  }
}

// `method`: names or "*", each listed once (call and invoke rules).
void readMethods(RuleReader& r, std::vector<std::string>& out) {
  if (auto methods = readStringList(r.table, "method", r.context, Presence::REQUIRED, r.diag)) {
    for (const Located<std::string>& entry : *methods) {
      Refusal refused = entry.value == "*" ? Refusal() : validateMethodName(entry.value);
      if (refused) {
        r.error(*entry.where,
                "method \"" + entry.value + "\": " + refused.why() + " (or \"*\" for any)");
      } else if (std::find(out.begin(), out.end(), entry.value) != out.end()) {
        r.error(*entry.where, "method \"" + entry.value + "\" is listed twice");
      } else {
        out.push_back(entry.value);
      }
    }
  }
}

}  // namespace

void readHosts(RuleReader& r, std::string_view key, NetKeys& keys) {
  auto hosts = readStringList(r.table, key, r.context, Presence::REQUIRED, r.diag);
  if (!hosts) return;
  for (const Located<std::string>& entry : *hosts) {
    const std::string& text = entry.value;
    bool looksNumeric = text.find_first_of("/:") != std::string::npos || IpAddress::parse(text);
    std::string error;
    if (looksNumeric) {
      std::optional<IpBlock> block = IpBlock::parse(text, error);
      if (!block) {
        r.error(*entry.where, std::string(key) + " \"" + text + "\": " + error);
      } else if (std::find(keys.hostBlocks.begin(), keys.hostBlocks.end(), *block) !=
                 keys.hostBlocks.end()) {
        r.error(*entry.where, std::string(key) + " \"" + text + "\" is listed twice");
      } else {
        keys.hostBlocks.push_back(*block);
      }
      continue;
    }
    if (Refusal refused = validateRuleHostName(text)) {
      r.error(*entry.where, std::string(key) + " \"" + text + "\": " + refused.why());
    } else if (std::find(keys.hostNames.begin(), keys.hostNames.end(), text) !=
               keys.hostNames.end()) {
      r.error(*entry.where, std::string(key) + " \"" + text + "\" is listed twice");
    } else {
      keys.hostNames.push_back(text);
    }
  }
}

namespace {

// `port`: integers and "LO-HI" strings in one array, so it is read element by element.
void readPorts(RuleReader& r, NetKeys& keys) {
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
    } else if (std::find(keys.ports.begin(), keys.ports.end(), *range) != keys.ports.end()) {
      r.error(element.source(), "port " + range->describe() + " is listed twice");
    } else {
      keys.ports.push_back(*range);
    }
  }
}

}  // namespace

// `path` of any fs.* rule: a pattern, after ${name} expansion.
void readFsPathKeys(RuleReader& r, const LoadOptions& options, Rule& rule) {
  readPattern(r, options, "path", rule.fs().path);
}

namespace {

// `mode`: open mode names, each listed once (fs.open and grant rules).
void readModes(RuleReader& r, OpenModes& out) {
  if (auto modes = readStringList(r.table, "mode", r.context, Presence::REQUIRED, r.diag)) {
    for (const Located<std::string>& entry : *modes) {
      std::optional<OpenMode> mode = parseOpenMode(entry.value);
      if (!mode) {
        r.error(*entry.where, "unknown mode \"" + entry.value +
                                  "\" (expected read, write, create, truncate, append)");
      } else if (out.has(*mode)) {
        r.error(*entry.where, "mode \"" + entry.value + "\" is listed twice");
      } else {
        out.add(*mode);
      }
    }
  }
}

// `granted_only`: only an allow rule may narrow itself to the call's grants; a deny written so
// would read as a refusal that holds only when something was granted.
void readGrantedOnly(RuleReader& r, Rule& rule) {
  auto grantedOnly =
      readBoolean(r.table, "granted_only", r.context, Presence::OPTIONAL, r.diag);
  if (!grantedOnly || !*grantedOnly) return;
  if (rule.effect != Effect::ALLOW) {
    r.error(keyRegion(r.table, "granted_only"),
            "granted_only applies to allow rules only: a deny rule refuses whatever the call "
            "was granted");
    return;
  }
  rule.fs().grantedOnly = true;
}

// `descriptors` of a grant rule: the kinds of open file a caller may hand instead of a path.
// Allow rules only (a deny refuses the path, however it is handed); a directory is handed for
// reading only, so a rule granting one grants no other mode.
void readDescriptorKinds(RuleReader& r, Rule& rule) {
  GrantKeys& grant = rule.grant();
  auto kinds = readStringList(r.table, "descriptors", r.context, Presence::OPTIONAL, r.diag);
  if (!kinds) return;
  if (rule.effect != Effect::ALLOW) {
    r.error(keyRegion(r.table, "descriptors"),
            "descriptors applies to allow rules only: a deny rule refuses the path however it "
            "is handed");
    return;
  }
  for (const Located<std::string>& entry : *kinds) {
    std::optional<DescriptorKind> kind = parseDescriptorKind(entry.value);
    if (!kind) {
      r.error(*entry.where, "unknown descriptor kind \"" + entry.value +
                                "\" (expected regular, directory: sockets, FIFOs and devices "
                                "are never handed to a worker)");
    } else if (grant.descriptors.has(*kind)) {
      r.error(*entry.where, "descriptor kind \"" + entry.value + "\" is listed twice");
    } else if (*kind == DescriptorKind::DIRECTORY && grant.modes.bits != 0 &&
               !grant.modes.subsetOf(OpenModes{static_cast<uint8_t>(OpenMode::READ)})) {
      r.error(*entry.where, "a directory descriptor is handed for reading only, and this rule "
                            "grants " + grant.modes.describe() + ": write a separate rule");
    } else {
      grant.descriptors.add(*kind);
    }
  }
  // The worker gets a description of the host's file that it could keep open past the call; only
  // a worker that ends with its call gives it up for certain.
  if (!grant.descriptors.empty() && r.workerReuse != WorkerReuse::NEVER) {
    r.error(keyRegion(r.table, "descriptors"),
            "descriptors needs [unit] worker_reuse = \"never\": a worker handed a host's file "
            "must end with its call, or it could keep the file open for the next caller");
  }
}

}  // namespace

void readFsOpenKeys(RuleReader& r, const LoadOptions& options, Rule& rule) {
  readFsPathKeys(r, options, rule);
  readModes(r, rule.fs().modes);
  readGrantedOnly(r, rule);
}

// A grant rule names the clients that may grant (caller, narrowed by caller_uid), what they may
// grant (path) and with which modes (mode). Units do not grant: an invoke carries no grants.
void readGrantKeys(RuleReader& r, const LoadOptions& options, Rule& rule) {
  if (r.table.get("caller") == nullptr) {
    r.error(r.table.source(), "missing required key \"caller\": a grant rule names the clients "
                              "that may grant (caller = [\"web\"])");
  } else {
    readCallerNames(r, rule.grant());
  }
  readCallerUids(r, rule.grant());
  readPattern(r, options, "path", rule.grant().path);
  readModes(r, rule.grant().modes);
  readDescriptorKinds(r, rule);
}

void readCallKeys(RuleReader& r, const LoadOptions&, Rule& rule) {
  CallKeys& call = rule.call();
  readCallerNames(r, call);
  readCallerUids(r, call);
  readUnitNames(r, "caller_unit", Presence::OPTIONAL, call.callerUnits);
  readMethods(r, call.methods);
}

void readInvokeKeys(RuleReader& r, const LoadOptions&, Rule& rule) {
  readUnitNames(r, "unit", Presence::REQUIRED, rule.invoke().invokeUnits);
  readMethods(r, rule.invoke().methods);
}

void readSecretsGetKeys(RuleReader& r, const LoadOptions&, Rule& rule) {
  std::vector<std::string>& secretNames = rule.secrets().secretNames;
  auto names = readStringList(r.table, "name", r.context, Presence::REQUIRED, r.diag);
  if (!names) return;
  for (const Located<std::string>& entry : *names) {
    Refusal refused = validateSecretName(entry.value);
    if (refused.refuses()) {
      r.error(*entry.where, "name \"" + entry.value + "\": " + refused.why());
    } else if (std::find(secretNames.begin(), secretNames.end(), entry.value) !=
               secretNames.end()) {
      r.error(*entry.where, "name \"" + entry.value + "\" is listed twice");
    } else {
      secretNames.push_back(entry.value);
    }
  }
}

// A rule is either TCP (host and port) or a Unix socket (unix_path): one rule mixing them would
// read as a restriction that applies to neither.
void readNetConnectKeys(RuleReader& r, const LoadOptions& options, Rule& rule) {
  if (r.table.get("unix_path") != nullptr) {
    for (std::string_view key : {"host", "port"}) {
      if (r.table.get(key) == nullptr) continue;
      r.error(keyRegion(r.table, key),
              "key \"" + std::string(key) + "\" next to unix_path: a net.connect rule has either "
              "host and port (TCP) or unix_path (a Unix socket)");
    }
    readPattern(r, options, "unix_path", rule.net().unixPath);
    return;
  }
  if (r.table.get("host") == nullptr && r.table.get("port") == nullptr) {
    r.error(r.table.source(), "missing required keys: a net.connect rule has host and port (TCP) "
                              "or unix_path (a Unix socket)");
    return;
  }
  readHosts(r, "host", rule.net());
  readPorts(r, rule.net());
}

}  // namespace airlock::policy::_

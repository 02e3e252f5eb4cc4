#include "broker/policy/model/policy.h"

#include <algorithm>

#include "broker/policy/model/fs_rule_index.h"

namespace airlock::policy {

std::string SourceLocation::describe() const {
  std::string out = file;
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (column > 0) out += ':' + std::to_string(column);
  }
  return out;
}

const char* workerReuseName(WorkerReuse reuse) {
  switch (reuse) {
    case WorkerReuse::ANY: return "any";
    case WorkerReuse::PER_CALLER: return "per-caller";
    case WorkerReuse::NEVER: return "never";
  }
  return "unknown-worker-reuse";
}

const char* restartPolicyName(RestartPolicy policy) {
  switch (policy) {
    case RestartPolicy::ALWAYS: return "always";
    case RestartPolicy::ON_FAILURE: return "on-failure";
    case RestartPolicy::NEVER: return "never";
  }
  return "unknown-restart";
}

const char* openModeName(OpenMode mode) {
  switch (mode) {
    case OpenMode::READ: return "read";
    case OpenMode::WRITE: return "write";
    case OpenMode::CREATE: return "create";
    case OpenMode::TRUNCATE: return "truncate";
    case OpenMode::APPEND: return "append";
  }
  return "unknown-mode";
}

std::string OpenModes::describe() const {
  std::string out;
  for (OpenMode mode : ALL_OPEN_MODES) {
    if (!has(mode)) continue;
    if (!out.empty()) out += ',';
    out += openModeName(mode);
  }
  return out.empty() ? "none" : out;
}

const char* descriptorKindName(DescriptorKind kind) {
  return kind == DescriptorKind::REGULAR ? "regular" : "directory";
}

std::optional<DescriptorKind> parseDescriptorKind(std::string_view name) {
  for (DescriptorKind kind : ALL_DESCRIPTOR_KINDS) {
    if (name == descriptorKindName(kind)) return kind;
  }
  return std::nullopt;
}

std::string DescriptorKinds::describe() const {
  std::string out;
  for (DescriptorKind kind : ALL_DESCRIPTOR_KINDS) {
    if (!has(kind)) continue;
    if (!out.empty()) out += ',';
    out += descriptorKindName(kind);
  }
  return out.empty() ? "none" : out;
}

const CallerKeys* Rule::callers() const {
  if (auto* call = std::get_if<CallKeys>(&keys)) return call;
  if (auto* grant = std::get_if<GrantKeys>(&keys)) return grant;
  return nullptr;
}

const PathPattern* Rule::pathPattern() const {
  if (auto* fs = std::get_if<FsKeys>(&keys)) return &fs->path;
  if (auto* grant = std::get_if<GrantKeys>(&keys)) return &grant->path;
  return nullptr;
}

OpenModes Rule::openModes() const {
  if (auto* fs = std::get_if<FsKeys>(&keys)) return fs->modes;
  if (auto* grant = std::get_if<GrantKeys>(&keys)) return grant->modes;
  return {};
}

const std::vector<std::string>* Rule::methodList() const {
  if (auto* call = std::get_if<CallKeys>(&keys)) return &call->methods;
  if (auto* invoke = std::get_if<InvokeKeys>(&keys)) return &invoke->methods;
  return nullptr;
}

void setOperation(Rule& rule, Operation op) {
  rule.operation = op;
  operationRow(op).initKeys(rule);
}

std::string Rule::describe() const {
  return "rule \"" + id + "\" (" + where.file + ':' + std::to_string(where.line) + ')';
}

std::string Caller::describe() const {
  if (kind == CallerKind::UNIT) return "unit " + std::string(name);
  return "client " + std::string(name) + " (uid " + std::to_string(uid) + ")";
}

Refusal validateMethodName(std::string_view method) {
  if (method.empty()) return "empty method name";
  if (method.size() > MAX_METHOD_NAME_BYTES) {
    return Refusal::because("method name longer than " + std::to_string(MAX_METHOD_NAME_BYTES) +
                            " bytes");
  }
  auto isAlpha = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  if (!isAlpha(method[0])) return "method name must start with a letter or '_'";
  for (char c : method) {
    bool ok = isAlpha(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!ok) return "method name may contain only letters, digits, '_', '.' and '-'";
  }
  return {};
}

Refusal validateUnitName(std::string_view name) {
  if (name.empty()) return "empty unit name";
  if (name.size() > MAX_UNIT_NAME_BYTES) {
    return Refusal::because("unit name longer than " + std::to_string(MAX_UNIT_NAME_BYTES) +
                            " bytes");
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return "unit name may contain only a-z, 0-9 and '-'";
    }
  }
  return {};
}

Refusal validateSecretName(std::string_view name) {
  if (name.empty()) return "empty secret name";
  if (name.size() > MAX_SECRET_NAME_BYTES) {
    return Refusal::because("secret name longer than " + std::to_string(MAX_SECRET_NAME_BYTES) +
                            " bytes");
  }
  if (name[0] == '.') return "secret name must not start with '.' (no \".\", \"..\" or hidden files)";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return "secret name may contain only letters, digits, '_', '.' and '-' (no '/')";
  }
  return {};
}

Refusal validateTempPrefix(std::string_view prefix) {
  if (prefix.size() > MAX_TEMP_PREFIX_BYTES) {
    return Refusal::because("temporary file prefix longer than " +
                            std::to_string(MAX_TEMP_PREFIX_BYTES) + " bytes");
  }
  if (!prefix.empty() && prefix[0] == '.') return "temporary file prefix must not start with '.'";
  for (char c : prefix) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return "temporary file prefix may contain only letters, digits, '_', '.' and '-'";
  }
  return {};
}

void indexRules(UnitPolicy& unit) {
  unit.fsIndex = FsRuleIndex::build(unit.rules);
  unit.allowedOperations = 0;
  for (const Rule& rule : unit.rules) {
    if (rule.effect == Effect::ALLOW) {
      unit.allowedOperations |= 1u << static_cast<uint8_t>(rule.operation);
    }
  }
  // A learning unit's workers carry the capabilities learning may use, or they could never ask.
  for (const Rule& grant : unit.learnGrants) {
    unit.allowedOperations |= 1u << static_cast<uint8_t>(grant.operation);
  }
}

const char* unitModeName(UnitMode mode) {
  return mode == UnitMode::LEARN ? "learn" : "enforce";
}

bool UnitPolicy::allowsAnyFs() const {
  for (Operation op : ALL_OPERATIONS) {
    if (isFsOperation(op) && allowsAny(op)) return true;
  }
  return false;
}

bool BrokerSettings::isAdmin(std::string_view client) const {
  return std::find(admins.begin(), admins.end(), client) != admins.end();
}

}  // namespace airlock::policy

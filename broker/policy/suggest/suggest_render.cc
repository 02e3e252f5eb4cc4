#include "broker/policy/suggest/suggest_render.h"

#include <cstdio>

namespace airlock::policy {

std::string tomlString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

namespace _ {
namespace {

// Text from the audit log (a path a worker chose) inside a `#` comment: control characters, a
// newline above all, would end the comment and put the rest of the text into the policy as TOML
// (TOML forbids them in comments anyway). They are written as tomlString escapes.
std::string commentText(std::string_view text) {
  std::string quoted = tomlString(text);
  return quoted.substr(1, quoted.size() - 2);
}

std::string withDefines(const std::string& path, const RenderOptions& options) {
  const std::pair<const std::string, std::string>* best = nullptr;
  for (auto& entry : options.defines) {
    const std::string& value = entry.second;
    if (value.empty() || value == "/" || !path.starts_with(value)) continue;
    if (path.size() != value.size() && path[value.size()] != '/') continue;
    if (best == nullptr || value.size() > best->second.size()) best = &entry;
  }
  if (best == nullptr) return path;
  return "${" + best->first + "}" + path.substr(best->second.size());
}

void putList(std::string& out, const std::vector<std::string>& items) {
  out += "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + tomlString(items[i]);
  out += "]\n";
}

// The keys of the rule's operation, by how its requests are matched.
void putConditions(std::string& out, const Rule& rule, const RenderOptions& options) {
  Matching matching = operationRow(rule.operation).matching;
  if (matching == Matching::PATH || matching == Matching::PATH_AND_MODES) {
    out += "path = " + tomlString(withDefines(rule.fs().path.text(), options)) + "\n";
    if (matching == Matching::PATH_AND_MODES) {
      std::vector<std::string> modes;
      for (OpenMode mode : ALL_OPEN_MODES) {
        if (rule.fs().modes.has(mode)) modes.push_back(openModeName(mode));
      }
      out += "mode = ";
      putList(out, modes);
    }
  } else if (matching == Matching::NET_TARGET && rule.net().isUnixSocketRule()) {
    out += "unix_path = " + tomlString(withDefines(rule.net().unixPath.text(), options)) + "\n";
  } else if (matching == Matching::NET_TARGET) {
    std::vector<std::string> hosts = rule.net().hostNames;
    for (const IpBlock& block : rule.net().hostBlocks) hosts.push_back(block.describe());
    out += "host = ";
    putList(out, hosts);
    out += "port = [";
    for (size_t i = 0; i < rule.net().ports.size(); ++i) {
      out += (i ? ", " : "") + std::to_string(rule.net().ports[i].low);
    }
    out += "]\n";
  }
}

void putRule(std::string& out, const SuggestedRule& suggested, const RenderOptions& options) {
  const EvidenceSpan& e = suggested.evidence;
  out += "\n# " + std::to_string(e.count) + " request(s), seq " + std::to_string(e.firstSeq) +
         " to " + std::to_string(e.lastSeq);
  if (e.alreadyAllowed > 0) {
    out += " (" + std::to_string(e.alreadyAllowed) + " already allowed by a rule)";
  }
  out += ": airlock audit query --unit " + options.unit + " --op " +
         operationName(suggested.rule.operation) + "\n";
  if (!suggested.why.empty()) out += "# a glob: " + commentText(suggested.why) + "\n";
  if (!suggested.danger.empty()) {
    out += "# DANGEROUS: " + commentText(suggested.danger) +
           ". Write why in justification, or `airlock policy check` refuses this rule.\n";
  }
  out += "[[rule]]\nid = " + tomlString(suggested.rule.id) + "\nallow = " +
         tomlString(operationName(suggested.rule.operation)) + "\n";
  putConditions(out, suggested.rule, options);
  if (!suggested.danger.empty()) out += "justification = \"\"\n";
}

}  // namespace
}  // namespace _

std::string renderRules(const Suggestion& suggestion, const RenderOptions& options) {
  std::string out;
  for (const SuggestedRule& suggested : suggestion.rules) {
    if (options.skipAlreadyAllowed && suggested.evidence.alreadyAllowed == suggested.evidence.count) {
      continue;
    }
    _::putRule(out, suggested, options);
  }
  if (suggestion.syscalls.empty()) return out;
  // A table after the rules: merge it into the file's own [sandbox], if it has one.
  std::string entries, danger;
  out += "\n";
  for (const SuggestedSyscalls& s : suggestion.syscalls) {
    out += "# syscalls entry " + tomlString(s.entry) + ": ";
    for (size_t i = 0; i < s.seen.size(); ++i) out += (i ? ", " : "") + s.seen[i];
    out += ", " + std::to_string(s.evidence.count) + " record(s), seq " +
           std::to_string(s.evidence.firstSeq) + " to " + std::to_string(s.evidence.lastSeq) +
           ": airlock audit query --unit " + options.unit + " --op syscall.learned\n";
    if (!s.danger.empty()) {
      out += "# DANGEROUS: " + s.danger + ". Write why in justification, or `airlock policy "
             "check` refuses it.\n";
      danger = s.danger;
    }
    entries += (entries.empty() ? "" : ", ") + tomlString(s.entry);
  }
  out += "[sandbox]\nsyscalls = [" + entries + "]\n";
  if (!danger.empty()) out += "justification = \"\"\n";
  return out;
}

}  // namespace airlock::policy

#include "cli/rule_usage.h"

#include "audit/audit_log.h"
#include "broker/policy/model/operations.h"
#include "broker/policy/model/printable.h"

namespace airlock::cli {

namespace _ {

// The directory of `path` ("/srv/images" of "/srv/images/a.png").
std::string directoryOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

// The longest directory both are in: whole path segments only.
std::string commonDirectory(const std::string& a, const std::string& b) {
  size_t same = 0;
  while (same < a.size() && same < b.size() && a[same] == b[same]) ++same;
  bool segmentEnds = (same == a.size() || a[same] == '/') && (same == b.size() || b[same] == '/');
  if (segmentEnds) return same == 0 ? "/" : a.substr(0, same);
  auto slash = a.rfind('/', same);
  return slash == std::string::npos || slash == 0 ? "/" : a.substr(0, slash);
}

std::string printableText(const std::string& text) { return policy::printable(text, 200); }

bool isTreeGrant(const policy::Rule& rule) {
  const std::string& text = rule.fs().path.text();
  return text.size() > 3 && text.substr(text.size() - 3) == "/**";
}

}  // namespace _

void RuleUsage::add(const audit::LoggedRecord& record) {
  if (records_ == 0) {
    firstSeq_ = record.seq;
    firstMicros_ = record.timeMicros;
  }
  ++records_;
  lastSeq_ = record.seq;
  lastMicros_ = record.timeMicros;
  if (record.unit.empty() || record.rule.empty() || record.decision.empty()) return;
  RuleUse& use = uses_[{record.unit, record.rule}];
  if (use.decisions++ == 0) use.firstSeq = record.seq;
  use.lastSeq = record.seq;
  if (record.decision == "deny") {
    ++use.denied;
    return;
  }
  ++use.allowed;
  for (const char* key : {"path", "to"}) {
    auto path = record.args().find(key);
    if (path == record.args().end() || !path->is_string()) continue;
    std::string directory = _::directoryOf(path->get<std::string>());
    use.commonDirectory = use.commonDirectory ? _::commonDirectory(*use.commonDirectory, directory)
                                              : directory;
    break;
  }
  auto method = record.args().find("method");
  if (method != record.args().end() && method->is_string()) {
    if (use.methods.size() < MAX_METHODS) {
      use.methods.insert(method->get<std::string>());
    } else if (use.methods.count(method->get<std::string>()) == 0) {
      use.moreMethods = true;
    }
  }
}

std::string RuleUsage::period() const {
  if (records_ == 0) return "no records";
  return "seq " + std::to_string(firstSeq_) + ".." + std::to_string(lastSeq_) + ", " +
         audit::AuditLog::formatTime(firstMicros_) + " to " +
         audit::AuditLog::formatTime(lastMicros_);
}

std::vector<RuleUsage::Finding> RuleUsage::findings(const policy::UnitPolicy& unit) const {
  std::vector<Finding> out;
  for (const policy::Rule& rule : unit.rules) {
    auto found = uses_.find({unit.name, rule.id});
    if (found == uses_.end()) {
      out.push_back({"unused", &rule, "decided nothing in the logs (" + period() + ")", ""});
      continue;
    }
    const RuleUse& use = found->second;
    std::string evidence = std::to_string(use.decisions) + " decisions (" +
                           std::to_string(use.allowed) + " allowed, " +
                           std::to_string(use.denied) + " denied), seq " +
                           std::to_string(use.firstSeq) + ".." + std::to_string(use.lastSeq);
    bool allow = rule.effect == policy::Effect::ALLOW;
    if (allow && policy::isFsOperation(rule.operation) && _::isTreeGrant(rule) &&
        use.commonDirectory) {
      const std::string& root = rule.fs().path.root();
      const std::string& used = *use.commonDirectory;
      if (used.size() > root.size() && used.compare(0, root.size(), root) == 0 &&
          (root == "/" || used[root.size()] == '/')) {
        out.push_back({"over-broad", &rule,
                       "grants " + std::string(policy::operationName(rule.operation)) + " of " +
                           _::printableText(rule.fs().path.text()) + " but all " +
                           std::to_string(use.allowed) + " requests it allowed were under " +
                           _::printableText(used) + "/ (" + evidence + ")",
                       "path = \"" + _::printableText(used) + "/**\""});
        continue;
      }
    }
    bool anyMethod = false;
    if (auto* listed = rule.methodList()) {
      for (auto& method : *listed) anyMethod |= method == "*";
    }
    if (allow && anyMethod && !use.methods.empty() && !use.moreMethods) {
      std::string methods;
      for (auto& method : use.methods) methods += (methods.empty() ? "\"" : ", \"") + _::printableText(method) + "\"";
      out.push_back({"over-broad", &rule,
                     "allows every method (\"*\") but only " + std::to_string(use.methods.size()) +
                         " were called (" + evidence + ")",
                     "method = [" + methods + "]"});
      continue;
    }
    out.push_back({"used", &rule, evidence, ""});
  }
  return out;
}

std::vector<std::string> RuleUsage::describe() const {
  std::vector<std::string> lines;
  for (const policy::UnitPolicy& unit : units_) {
    lines.push_back("unit " + _::printableText(unit.name) + ":");
    for (auto& finding : findings(unit)) {
      std::string line = "  " + finding.kind + std::string(11 - finding.kind.size(), ' ') +
                         finding.rule->describe() + ": " + finding.text;
      if (!finding.suggestion.empty()) line += "; narrower: " + finding.suggestion;
      lines.push_back(line);
    }
  }
  return lines;
}

nlohmann::json RuleUsage::toJson() const {
  nlohmann::json out = {{"records", records_}};
  if (records_ > 0) {
    out["first_seq"] = firstSeq_;
    out["last_seq"] = lastSeq_;
    out["first"] = audit::AuditLog::formatTime(firstMicros_);
    out["last"] = audit::AuditLog::formatTime(lastMicros_);
  }
  out["units"] = nlohmann::json::object();
  for (const policy::UnitPolicy& unit : units_) {
    auto& rules = out["units"][unit.name] = nlohmann::json::array();
    for (auto& finding : findings(unit)) {
      nlohmann::json entry = {{"rule", finding.rule->id},
                              {"where", finding.rule->where.describe()},
                              {"finding", finding.kind},
                              {"evidence", finding.text}};
      auto use = uses_.find({unit.name, finding.rule->id});
      if (use != uses_.end()) {
        entry["decisions"] = use->second.decisions;
        entry["allowed"] = use->second.allowed;
        entry["denied"] = use->second.denied;
        entry["first_seq"] = use->second.firstSeq;
        entry["last_seq"] = use->second.lastSeq;
        if (use->second.commonDirectory) entry["used_under"] = *use->second.commonDirectory;
        if (!use->second.methods.empty()) entry["methods_called"] = use->second.methods;
      }
      if (!finding.suggestion.empty()) entry["narrower"] = finding.suggestion;
      rules.push_back(entry);
    }
  }
  return out;
}

}  // namespace airlock::cli

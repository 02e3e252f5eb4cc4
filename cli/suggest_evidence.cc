#include "cli/suggest_evidence.h"

#include <string>
#include <string_view>

#include "broker/policy/decide/decide.h"

namespace airlock::cli {

namespace _ {
namespace {

// The string `args[key]`, or "" when absent or not a string.
std::string argText(const nlohmann::ordered_json& args, const char* key) {
  auto found = args.find(key);
  return found != args.end() && found->is_string() ? found->get<std::string>() : std::string();
}

bool isEvidenceDecision(const audit::LoggedRecord& record) {
  if (record.decision == "allow" || record.decision == "learn") return true;
  if (record.decision != "deny" || record.rule != policy::DEFAULT_DENY_RULE_ID) return false;
  auto mode = record.json.find("mode");
  if (mode != record.json.end()) return false;  // a learning unit's deny: outside its bounds
  auto reason = record.json.find("reason");
  return reason != record.json.end() && reason->is_string() &&
         reason->get_ref<const std::string&>().starts_with("no rule allows ");
}

// "read,write,exclusive" -> read and write; false if a part is not a mode (or "exclusive").
bool parseModes(const std::string& text, policy::OpenModes& out) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view part = std::string_view(text).substr(
        start, comma == std::string::npos ? std::string::npos : comma - start);
    bool known = part == "exclusive";
    for (policy::OpenMode mode : policy::ALL_OPEN_MODES) {
      if (part == policy::openModeName(mode)) {
        out.add(mode);
        known = true;
      }
    }
    if (!known) return false;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out.bits != 0;
}

void addPath(policy::Evidence base, const std::string& path,
             std::vector<policy::Evidence>& out) {
  if (path.empty() || policy::validateRequestPath(path).refuses()) return;
  base.path = path;
  out.push_back(std::move(base));
}

void addNet(policy::Evidence base, const nlohmann::ordered_json& args,
            std::vector<policy::Evidence>& out) {
  std::string unixPath = argText(args, "unix_path");
  if (!unixPath.empty()) {
    if (policy::validateRequestPath(unixPath).refuses()) return;
    base.unixPath = unixPath;
    out.push_back(std::move(base));
    return;
  }
  auto port = args.find("port");
  base.host = argText(args, "host");
  if (base.host.empty() || port == args.end() || !port->is_number_unsigned()) return;
  uint64_t number = port->get<uint64_t>();
  if (number == 0 || number > 65535) return;
  base.port = static_cast<uint16_t>(number);
  out.push_back(std::move(base));
}

}  // namespace
}  // namespace _

std::vector<policy::Evidence> evidenceOf(const audit::LoggedRecord& record) {
  std::vector<policy::Evidence> out;
  // A syscall a learning unit ran, or an enforcing one was refused and answered (errno).
  bool learned = record.event == "syscall.learned" && record.decision == "learn";
  bool refused = record.event == "syscall.refused" && record.decision == "deny" &&
                 record.json.find("mode") == record.json.end();
  if (learned || refused) {
    policy::Evidence e;
    e.syscall = _::argText(record.args(), "syscall");
    e.seq = record.seq;
    if (!e.syscall.empty()) out.push_back(std::move(e));
    return out;
  }
  std::optional<policy::Operation> op = policy::operationNamed(record.event);
  if (!op || !_::isEvidenceDecision(record)) return out;
  const policy::OperationRow& row = policy::operationRow(*op);
  if (!row.decidedByPath() && row.matching != policy::Matching::NET_TARGET) return out;
  policy::Evidence base;
  base.operation = *op;
  base.seq = record.seq;
  base.alreadyAllowed = record.decision == "allow";
  const nlohmann::ordered_json& args = record.args();
  if (row.matching == policy::Matching::NET_TARGET) {
    _::addNet(std::move(base), args, out);
  } else if (row.matching == policy::Matching::PATH_AND_MODES) {
    if (!_::parseModes(_::argText(args, "mode"), base.modes)) return out;
    _::addPath(std::move(base), _::argText(args, "path"), out);
  } else if (args.contains("from")) {  // fs.rename: both paths are decided
    _::addPath(base, _::argText(args, "from"), out);
    _::addPath(std::move(base), _::argText(args, "to"), out);
  } else {
    _::addPath(std::move(base), _::argText(args, "path"), out);
  }
  return out;
}

}  // namespace airlock::cli

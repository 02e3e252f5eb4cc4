#include "broker/policy/review/explain.h"

#include <algorithm>
#include <optional>
#include <set>

#include "broker/policy/review/explain_operations.h"

namespace airlock::policy {

namespace _ {
namespace {

// Every argument is one the operation takes, and every one it requires is given.
std::string checkArgs(const OperationRow& row, const std::map<std::string, std::string>& args) {
  // Sorted, so a message lists them in the same order whatever the row's order.
  std::set<std::string_view> required(row.explainRequired.begin(), row.explainRequired.end());
  std::set<std::string_view> optional(row.explainOptional.begin(), row.explainOptional.end());
  for (auto& [key, value] : args) {
    if (!required.count(key) && !optional.count(key)) {
      std::string list;
      for (auto& k : required) list += (list.empty() ? "" : ", ") + std::string(k);
      for (auto& k : optional) list += (list.empty() ? "" : ", ") + std::string(k);
      return "unknown argument \"" + key + "\" for " + std::string(row.name) + " (takes " + list +
             ")";
    }
  }
  for (auto& key : required) {
    if (!args.count(std::string(key))) {
      return std::string(row.name) + " needs --arg " + std::string(key) + "=...";
    }
  }
  return {};
}

}  // namespace
}  // namespace _

Explanation explain(const std::vector<UnitPolicy>& units, const ExplainRequest& request) {
  Explanation out;
  out.request = request.operation + " in unit " + request.unit;
  std::optional<Operation> op = operationNamed(request.operation);
  if (!op) {
    out.decision = _::denyByDefault("no operation \"" + request.operation +
                                    "\" (airlockd decides " + operationList() + ")");
    return out;
  }
  const OperationRow& row = operationRow(*op);
  out.error = _::checkArgs(row, request.args);
  if (!out.error.empty()) return out;
  auto unit = std::find_if(units.begin(), units.end(),
                           [&request](const UnitPolicy& u) { return u.name == request.unit; });
  row.explain(unit == units.end() ? nullptr : &*unit, *op, request, out);
  return out;
}

}  // namespace airlock::policy

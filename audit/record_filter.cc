#include "audit/record_filter.h"

#include <algorithm>
#include <string_view>

#include "audit/record_outcome.h"

namespace airlock::audit {

namespace _ {

bool anyEquals(const std::vector<std::string>& wanted, const std::string& value) {
  return wanted.empty() || std::find(wanted.begin(), wanted.end(), value) != wanted.end();
}

bool callerMatches(const std::string& wanted, const std::string& caller) {
  if (wanted == caller) return true;
  std::string_view rest = caller;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view part = rest.substr(0, comma);
    if (part == wanted) return true;
    constexpr std::string_view CLIENT = "client:";
    if (part.substr(0, CLIENT.size()) == CLIENT && part.substr(CLIENT.size()) == wanted) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace _

bool belongsToCall(const LoggedRecord& record, const std::string& callId) {
  if (record.callId == callId) return true;
  auto serving = record.args().find("serving_call_ids");
  if (serving == record.args().end() || !serving->is_array()) return false;
  return std::any_of(serving->begin(), serving->end(), [&callId](const auto& id) {
    return id.is_string() && id.template get_ref<const std::string&>() == callId;
  });
}

bool argsContain(const nlohmann::ordered_json& args, const std::string& text) {
  if (args.is_string()) return args.get_ref<const std::string&>().find(text) != std::string::npos;
  if (args.is_object() || args.is_array()) {
    for (auto& value : args) {
      if (argsContain(value, text)) return true;
    }
    return false;
  }
  return !args.is_null() && args.dump().find(text) != std::string::npos;
}

bool RecordFilter::matches(const LoggedRecord& record) const {
  if (!_::anyEquals(units, record.unit) || !_::anyEquals(operations, record.event) ||
      !_::anyEquals(decisions, record.decision) || !_::anyEquals(rules, record.rule)) {
    return false;
  }
  if (!callIds.empty() &&
      std::none_of(callIds.begin(), callIds.end(), [&record](const std::string& id) {
        return belongsToCall(record, id);
      })) {
    return false;
  }
  if (!results.empty()) {
    KJ_IF_MAYBE(outcome, callOutcome(record)) {
      if (!_::anyEquals(results, std::string(*outcome))) return false;
    } else {
      return false;
    }
  }
  if (!callers.empty() &&
      std::none_of(callers.begin(), callers.end(), [&record](const std::string& wanted) {
        return _::callerMatches(wanted, record.caller);
      })) {
    return false;
  }
  KJ_IF_MAYBE(since, sinceMicros) {
    if (record.timeMicros < *since) return false;
  }
  KJ_IF_MAYBE(until, untilMicros) {
    if (record.timeMicros >= *until) return false;
  }
  if (!argsText.empty() &&
      std::none_of(argsText.begin(), argsText.end(), [&record](const std::string& text) {
        return argsContain(record.args(), text);
      })) {
    return false;
  }
  return true;
}

}  // namespace airlock::audit

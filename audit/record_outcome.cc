#include "audit/record_outcome.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace airlock::audit {

namespace _ {

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool namesOutOfMemory(std::string_view result) {
  std::string text = lower(result);
  for (const char* sign : {"out of memory", "enomem", "bad_alloc", "oom-kill", "oom kill"}) {
    if (text.find(sign) != std::string::npos) return true;
  }
  return false;
}

// For a record that names a cause in args.cause only if it is one of ours: anything else is
// ignored and the cause read from the result, as for a log written before args.cause existed.
kj::Maybe<std::string_view> recordedCause(const LoggedRecord& record) {
  auto found = record.args().find("cause");
  if (found == record.args().end() || !found->is_string()) return nullptr;
  auto& cause = found->get_ref<const std::string&>();
  for (std::string_view known : EXIT_CAUSES) {
    if (cause == known) return known;
  }
  return nullptr;
}

}  // namespace _

kj::Maybe<std::string_view> callOutcome(const LoggedRecord& record) {
  if (record.event != "call" && record.event != "invoke") return nullptr;
  std::string_view result = record.result;
  if (result == "ok") return std::string_view("ok");
  if (_::startsWith(result, "busy")) return std::string_view("busy");
  if (_::namesOutOfMemory(result)) return std::string_view("out-of-memory");
  if (_::startsWith(result, "unit crashed")) return std::string_view("crashed");
  if (_::startsWith(result, "timed out")) return std::string_view("timed-out");
  if (_::startsWith(result, "unit unavailable") || _::startsWith(result, "no such unit")) {
    return std::string_view("unavailable");
  }
  if (record.decision == "deny" || _::startsWith(result, "denied")) {
    return std::string_view("denied");
  }
  return std::string_view("failed");
}

kj::Maybe<std::string_view> exitCause(const LoggedRecord& record) {
  if (record.event != "worker.exit") return nullptr;
  KJ_IF_MAYBE(cause, _::recordedCause(record)) { return *cause; }
  // A log from before args.cause: the reason airlockd gave says as much.
  auto found = record.json.find("reason");
  std::string reason = found != record.json.end() && found->is_string() ? found->get<std::string>()
                                                                          : "";
  if (reason == "airlockd is stopping") return std::string_view("shutdown");
  if (reason.find("policy reload") != std::string::npos) return std::string_view("reload");
  if (_::startsWith(reason, "killed by airlockd: timed out") ||
      _::startsWith(reason, "killed by airlockd: did not answer hello")) {
    return std::string_view("deadline");
  }
  if (_::startsWith(reason, "killed by airlockd")) return std::string_view("killed");
  if (record.result == "exited with status 0") return std::string_view("exited");
  if (_::startsWith(record.result, "exited with status")) return std::string_view("failed");
  return std::string_view("crashed");
}

bool causedByAirlockd(std::string_view cause) {
  return cause == "shutdown" || cause == "reload" || cause == "parked" || cause == "deadline" ||
         cause == "killed";
}

}  // namespace airlock::audit

#include "audit/ocsf_export.h"

#include <string>
#include <string_view>

#include "audit/chain.h"
#include "audit/json_fields.h"
#include "audit/record_outcome.h"

namespace airlock::audit {

namespace _ {

using Json = nlohmann::ordered_json;

struct OcsfClass {
  int classUid;
  int categoryUid;
  int activityId;
  const char* activityName;
};

constexpr int API_ACTIVITY = 6003, FILE_SYSTEM_ACTIVITY = 1001, NETWORK_ACTIVITY = 4001,
              PROCESS_ACTIVITY = 1007;
constexpr int APPLICATION = 6, SYSTEM = 1, NETWORK = 4;  // category_uid
constexpr int OTHER = 99;

bool hasPrefix(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string_view withoutAdmitted(std::string_view event) {
  constexpr std::string_view ADMITTED = ".admitted";
  if (event.size() > ADMITTED.size() && event.substr(event.size() - ADMITTED.size()) == ADMITTED) {
    event.remove_suffix(ADMITTED.size());
  }
  return event;
}

// File System Activity's activity_id: 1 Create, 2 Read, 4 Delete, 5 Rename, 8 Get Attributes,
// 14 Open.
OcsfClass fileSystemClass(std::string_view request) {
  auto fs = [](int id, const char* name) {
    return OcsfClass{FILE_SYSTEM_ACTIVITY, SYSTEM, id, name};
  };
  if (request == "fs.open") return fs(14, "Open");
  if (request == "fs.stat") return fs(8, "Get Attributes");
  if (request == "fs.list") return fs(2, "Read");
  if (request == "fs.unlink") return fs(4, "Delete");
  if (request == "fs.rename") return fs(5, "Rename");
  return fs(1, "Create");  // mkdir, symlink, create_temp, mknod, link
}

// Network Activity's activity_id: 1 Open, 4 Fail, 5 Refuse.
OcsfClass networkClass(const LoggedRecord& record) {
  if (record.decision == "deny") return {NETWORK_ACTIVITY, NETWORK, 5, "Refuse"};
  if (record.event == "net.connect" && record.result != "socket passed") {
    return {NETWORK_ACTIVITY, NETWORK, 4, "Fail"};
  }
  return {NETWORK_ACTIVITY, NETWORK, 1, "Open"};
}

OcsfClass classOf(const LoggedRecord& record) {
  std::string_view request = withoutAdmitted(record.event);
  if (hasPrefix(request, "fs.")) return fileSystemClass(request);
  if (request == "net.connect") return networkClass(record);
  // Process Activity's activity_id: 1 Launch, 2 Terminate, 99 Other.
  if (record.event == "worker.spawn") return {PROCESS_ACTIVITY, SYSTEM, 1, "Launch"};
  if (record.event == "worker.exit") return {PROCESS_ACTIVITY, SYSTEM, 2, "Terminate"};
  if (record.event == "syscall.refused") return {PROCESS_ACTIVITY, SYSTEM, OTHER, "Other"};
  // API Activity's activity_id: 2 Read, 99 Other.
  if (record.event == "secrets.get") return {API_ACTIVITY, APPLICATION, 2, "Read"};
  return {API_ACTIVITY, APPLICATION, OTHER, "Other"};
}

const Json& arg(const LoggedRecord& record, const char* name) {
  static const Json NONE;
  auto found = record.args().find(name);
  return found == record.args().end() ? NONE : *found;
}

// actor: the host client (client:NAME,uid:N), the calling unit (unit:NAME), and the worker.
Json actorOf(const LoggedRecord& record) {
  Json actor = Json::object();
  std::string_view caller = record.caller;
  while (!caller.empty()) {
    auto comma = caller.find(',');
    std::string_view part = caller.substr(0, comma);
    if (hasPrefix(part, "client:")) actor["user"]["name"] = std::string(part.substr(7));
    if (hasPrefix(part, "uid:")) actor["user"]["uid"] = std::string(part.substr(4));
    if (hasPrefix(part, "unit:")) actor["app_name"] = std::string(part.substr(5));
    if (comma == std::string_view::npos) break;
    caller.remove_prefix(comma + 1);
  }
  auto pid = record.json.find("worker_pid");
  if (pid != record.json.end() && pid->is_number_integer()) {
    actor["process"]["pid"] = pid->get<int64_t>();
    if (!record.unit.empty()) actor["process"]["name"] = record.unit;
  }
  return actor;
}

Json fileOf(const Json& path) {
  Json file = Json::object();
  if (!path.is_string()) return file;
  const std::string& text = path.get_ref<const std::string&>();
  file["path"] = text;
  file["name"] = text.substr(text.rfind('/') + 1);
  return file;
}

void addClassFields(const LoggedRecord& record, const OcsfClass& ocsf, Json& event) {
  if (ocsf.classUid == FILE_SYSTEM_ACTIVITY) {
    const Json& path = arg(record, "path");
    event["file"] = fileOf(path.is_string() ? path : arg(record, "from"));
    if (record.event == "fs.rename" || record.event == "fs.rename.admitted") {
      event["file_result"] = fileOf(arg(record, "to"));
    }
  } else if (ocsf.classUid == NETWORK_ACTIVITY) {
    Json dst = Json::object();
    for (auto [from, to] : {std::pair{"host", "hostname"}, std::pair{"address", "ip"},
                            std::pair{"port", "port"}, std::pair{"unix_path", "path"}}) {
      const Json& value = arg(record, from);
      if (!value.is_null()) dst[to] = value;
    }
    event["dst_endpoint"] = dst;
    event["src_endpoint"] = {{"name", record.unit}};
  } else if (ocsf.classUid == PROCESS_ACTIVITY) {
    Json process = {{"name", record.unit}};
    auto pid = record.json.find("worker_pid");
    if (pid != record.json.end() && pid->is_number_integer()) process["pid"] = *pid;
    event["process"] = process;
    if (record.event == "worker.exit") {
      KJ_IF_MAYBE(cause, exitCause(record)) { event["status_detail"] = std::string(*cause); }
    }
  } else {
    std::string operation = record.event;
    for (const char* name : {"method", "operation"}) {
      if (arg(record, name).is_string()) operation = arg(record, name).get<std::string>();
    }
    event["api"] = {{"operation", operation}, {"service", {{"name", record.unit}}}};
    if (record.event == "secrets.get" && arg(record, "name").is_string()) {
      event["resources"] = Json::array({{{"type", "secret"}, {"name", arg(record, "name")}}});
    }
    event["src_endpoint"] = {{"name", record.caller}};
  }
}

// status_id: 1 Success, 2 Failure, 0 Unknown (a record that reports no outcome).
void addStatus(const LoggedRecord& record, Json& event) {
  std::string status = "Unknown";
  int statusId = 0;
  KJ_IF_MAYBE(outcome, callOutcome(record)) {
    bool ok = *outcome == "ok";
    statusId = ok ? 1 : 2;
    status = ok ? "Success" : "Failure";
  } else {
    if (record.decision == "deny") {
      statusId = 2;
      status = "Failure";
    } else if (record.decision == "allow") {
      statusId = 1;
      status = "Success";
    }
  }
  event["status_id"] = statusId;
  event["status"] = status;
  if (!record.result.empty() && !event.contains("status_detail")) {
    event["status_detail"] = record.result;
  }
}

}  // namespace _

nlohmann::ordered_json toOcsf(const LoggedRecord& record) {
  _::OcsfClass ocsf = _::classOf(record);
  _::Json event;
  event["class_uid"] = ocsf.classUid;
  event["category_uid"] = ocsf.categoryUid;
  event["activity_id"] = ocsf.activityId;
  event["activity_name"] = ocsf.activityName;
  event["type_uid"] = ocsf.classUid * 100 + ocsf.activityId;
  event["time"] = record.timeMicros / 1000;  // OCSF timestamps are milliseconds
  event["severity_id"] = record.decision == "deny" ? 3 : 1;  // Medium for a refusal, else Info
  std::string hash = lineHashHex(record.line);
  _::Json metadata = {{"version", OCSF_VERSION},
                      {"product", {{"name", "airlock"}, {"vendor_name", "airlock"}}},
                      {"log_name", "airlock audit"},
                      {"sequence", record.seq},
                      {"uid", hash},
                      {"original_time", stringField(record.json, "time")},
                      {"event_code", record.event}};
  if (!record.callId.empty()) metadata["correlation_uid"] = record.callId;
  event["metadata"] = metadata;
  event["actor"] = _::actorOf(record);
  if (!record.decision.empty()) {
    // action_id (Security Control profile): 1 Allowed, 2 Denied.
    bool allowed = record.decision == "allow";
    event["action_id"] = allowed ? 1 : 2;
    event["action"] = allowed ? "Allowed" : "Denied";
  }
  _::addClassFields(record, ocsf, event);
  _::addStatus(record, event);
  auto reason = stringField(record.json, "reason");
  if (!reason.empty()) event["message"] = reason;
  _::Json airlock = {{"seq", record.seq},
                     {"prev", stringField(record.json, "prev")},
                     {"hash", hash},
                     {"event", record.event}};
  for (const char* key : {"unit", "caller", "call_id", "decision", "rule", "policy_rev"}) {
    auto value = stringField(record.json, key);
    if (!value.empty()) airlock[key] = value;
  }
  airlock["args"] = record.args();
  event["unmapped"] = {{"airlock", airlock}};
  return event;
}

}  // namespace airlock::audit

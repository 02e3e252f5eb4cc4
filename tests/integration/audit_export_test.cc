// `airlock audit export --format ocsf` of a real airlockd's log, checked against the OCSF 1.3.0
// classes and attribute names it claims, as the schema (schema.ocsf.io, version 1.3.0) defines
// them:
//   API Activity          class_uid 6003, category_uid 6 (Application Activity); api.operation
//   File System Activity  class_uid 1001, category_uid 1 (System Activity); activity_id 14 Open;
//                         file.path, file.name
//   Process Activity      class_uid 1007, category_uid 1; activity_id 1 Launch, 2 Terminate;
//                         process.pid
//   every event           type_uid = class_uid * 100 + activity_id; time (ms since the epoch);
//                         severity_id; status_id (1 Success, 2 Failure); metadata.version,
//                         metadata.product.name, metadata.sequence, metadata.uid,
//                         metadata.correlation_uid; action_id (1 Allowed, 2 Denied); unmapped
// and each event traced back to its line of the signed log: metadata.sequence its seq,
// metadata.uid its line's hash, unmapped.airlock.prev the previous event's metadata.uid.

#include <gtest/gtest.h>

#include <sstream>

#include "audit/chain.h"
#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/sample_traffic.h"

namespace airlock::testing {
namespace {

constexpr char OCSF_VERSION[] = "1.3.0";

TEST(AuditExport, OcsfEventsHaveTheClassesAndAttributesOfOcsf130AndTraceBackToTheLog) {
  auto broker = startSampleBroker();
  driveSampleTraffic(*broker, {"/etc/passwd"});
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  std::vector<std::string> lines;
  {
    std::istringstream in(readFile(broker->auditPath()));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  auto exported = runProgram({binDir() + "/airlock", "audit", "export", "--format", "ocsf",
                              broker->auditPath()});
  ASSERT_EQ(exported.exitCode, 0) << exported.output;
  std::vector<nlohmann::json> events;
  {
    std::istringstream in(exported.output);
    for (std::string line; std::getline(in, line);) events.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(events.size(), lines.size()) << "one event per record";

  std::map<std::string, int> seen;
  for (size_t i = 0; i < events.size(); ++i) {
    auto& event = events[i];
    auto record = nlohmann::json::parse(lines[i]);
    std::string name = record["event"];
    SCOPED_TRACE(lines[i]);
    int classUid = event["class_uid"], activityId = event["activity_id"];
    EXPECT_EQ(event["type_uid"], classUid * 100 + activityId);
    EXPECT_EQ(event["metadata"]["version"], OCSF_VERSION);
    EXPECT_EQ(event["metadata"]["product"]["name"], "airlock");
    EXPECT_EQ(event["metadata"]["sequence"], record["seq"]);
    EXPECT_EQ(event["metadata"]["uid"], audit::lineHashHex(lines[i]));
    EXPECT_EQ(event["unmapped"]["airlock"]["prev"], record["prev"]);
    if (i > 0) {
      EXPECT_EQ(event["unmapped"]["airlock"]["prev"], events[i - 1]["metadata"]["uid"]);
    }
    EXPECT_TRUE(event["time"].is_number_integer());
    EXPECT_TRUE(event["severity_id"].is_number_integer());
    EXPECT_TRUE(event["status_id"].is_number_integer());
    if (record.contains("call_id")) {
      EXPECT_EQ(event["metadata"]["correlation_uid"], record["call_id"]);
    }
    if (record.contains("decision")) {
      EXPECT_EQ(event["action_id"], record["decision"] == "allow" ? 1 : 2);
    }
    if (name == "call" || name == "call.admitted") {
      EXPECT_EQ(classUid, 6003);
      EXPECT_EQ(event["category_uid"], 6);
      EXPECT_EQ(event["api"]["operation"], record["args"]["method"]);
      EXPECT_EQ(event["actor"]["user"]["name"], record["caller"].get<std::string>().substr(
                                                    7, record["caller"].get<std::string>().find(',') - 7));
      if (name == "call") {
        EXPECT_EQ(event["status_id"], record["result"] == "ok" ? 1 : 2);
      }
    } else if (name == "fs.open") {
      EXPECT_EQ(classUid, 1001);
      EXPECT_EQ(event["category_uid"], 1);
      EXPECT_EQ(activityId, 14) << "Open";
      EXPECT_EQ(event["file"]["path"], record["args"]["path"]);
      EXPECT_EQ(event["actor"]["process"]["pid"], record["worker_pid"]);
    } else if (name == "worker.spawn" || name == "worker.exit") {
      EXPECT_EQ(classUid, 1007);
      EXPECT_EQ(event["category_uid"], 1);
      EXPECT_EQ(activityId, name == "worker.spawn" ? 1 : 2) << "Launch, Terminate";
      EXPECT_EQ(event["process"]["pid"], record["worker_pid"]);
    }
    seen[name]++;
  }
  for (const char* name : {"call", "call.admitted", "fs.open", "worker.spawn", "worker.exit"}) {
    EXPECT_GT(seen[name], 0) << name << " was exported";
  }

  auto denied = runProgram({binDir() + "/airlock", "audit", "export", "--format", "ocsf",
                            broker->auditPath(), "--event", "fs.open", "--decision", "deny"});
  ASSERT_EQ(denied.exitCode, 0);
  auto first = nlohmann::json::parse(denied.output.substr(0, denied.output.find('\n')));
  EXPECT_EQ(first["status_id"], 2);
  EXPECT_EQ(first["file"]["path"], "/etc/passwd");
  auto noFormat = runProgram({binDir() + "/airlock", "audit", "export", broker->auditPath()});
  EXPECT_EQ(noFormat.exitCode, 2);
  EXPECT_NE(noFormat.output.find("--format ocsf is required"), std::string::npos);
}

TEST(AuditExport, EachLogFilesFirstRecordNamesItsOwnSegment) {
  auto first = startSampleBroker();
  auto second = startSampleBroker();
  ASSERT_EQ(first->stop(), 0);
  ASSERT_EQ(second->stop(), 0);
  auto a = first->auditRecords(), b = second->auditRecords();
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  std::string idA = a[0]["args"]["segment_id"], idB = b[0]["args"]["segment_id"];
  EXPECT_EQ(idA.size(), 32u);
  EXPECT_NE(idA, idB);
  for (size_t i = 1; i < a.size(); ++i) EXPECT_FALSE(a[i]["args"].contains("segment_id"));
  EXPECT_EQ(first->verifyAuditLog().exitCode, 0);
}

}  // namespace
}  // namespace airlock::testing

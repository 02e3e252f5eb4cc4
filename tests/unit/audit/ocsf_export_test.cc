// The OCSF 1.3.0 mapping of records the integration test's log does not have: Network Activity
// (class_uid 4001, category_uid 4; activity_id 1 Open, 4 Fail, 5 Refuse; dst_endpoint.hostname,
// .ip, .port), API Activity's secrets.get (activity_id 2 Read; resources), a rename (File System
// Activity activity_id 5 Rename; file, file_result) and a worker.exit's cause.

#include "audit/ocsf_export.h"

#include <gtest/gtest.h>

#include "audit/chain.h"
#include "tests/unit/audit/record_lines.h"

namespace airlock::audit {
namespace {

using namespace testing;

LoggedRecord connect(const std::string& decision, const std::string& result) {
  auto json = decisionJson(5, "2026-11-26T18:00:00.000000Z", "net.connect", "fetcher", decision,
                           decision == "allow" ? "db" : "default-deny",
                           {{"host", "db.internal"}, {"port", 5432}, {"address", "10.0.0.7"}});
  json["result"] = result;
  json["call_id"] = "c-4";
  return parsed(json);
}

TEST(OcsfExport, NetConnectIsNetworkActivityOpenRefuseOrFail) {
  auto open = toOcsf(connect("allow", "socket passed"));
  EXPECT_EQ(open["class_uid"], 4001);
  EXPECT_EQ(open["category_uid"], 4);
  EXPECT_EQ(open["activity_id"], 1);
  EXPECT_EQ(open["type_uid"], 400101);
  EXPECT_EQ(open["dst_endpoint"]["hostname"], "db.internal");
  EXPECT_EQ(open["dst_endpoint"]["ip"], "10.0.0.7");
  EXPECT_EQ(open["dst_endpoint"]["port"], 5432);
  EXPECT_EQ(open["status_id"], 1);
  EXPECT_EQ(open["action_id"], 1);
  EXPECT_EQ(open["metadata"]["correlation_uid"], "c-4");
  EXPECT_EQ(open["metadata"]["version"], "1.3.0");
  EXPECT_EQ(toOcsf(connect("deny", "refused"))["activity_id"], 5);
  EXPECT_EQ(toOcsf(connect("deny", "refused"))["action_id"], 2);
  auto failed = toOcsf(connect("allow", "10.0.0.7 port 5432: ECONNREFUSED: Connection refused"));
  EXPECT_EQ(failed["activity_id"], 4);
  EXPECT_EQ(failed["status_detail"], "10.0.0.7 port 5432: ECONNREFUSED: Connection refused");
}

TEST(OcsfExport, SecretsRenamesAndExitsKeepTheirOwnAttributesAndTheChain) {
  auto secretRecord = parsed(decisionJson(6, "2026-11-26T18:00:00.000000Z", "secrets.get",
                                          "fetcher", "allow", "db-password",
                                          {{"name", "db-password"}}));
  auto secret = toOcsf(secretRecord);
  EXPECT_EQ(secret["class_uid"], 6003);
  EXPECT_EQ(secret["activity_id"], 2);
  EXPECT_EQ(secret["resources"][0]["name"], "db-password");
  EXPECT_EQ(secret["metadata"]["sequence"], 6);
  EXPECT_EQ(secret["metadata"]["uid"], lineHashHex(secretRecord.line));
  EXPECT_EQ(secret["unmapped"]["airlock"]["prev"], std::string(64, '0'));
  EXPECT_EQ(secret["time"], 1795716000000) << "milliseconds";

  auto rename = toOcsf(parsed(decisionJson(7, "2026-11-26T18:00:00.000000Z", "fs.rename",
                                           "fetcher", "allow", "out-write",
                                           {{"from", "/out/a.tmp"}, {"to", "/out/a"}})));
  EXPECT_EQ(rename["class_uid"], 1001);
  EXPECT_EQ(rename["activity_id"], 5);
  EXPECT_EQ(rename["file"]["path"], "/out/a.tmp");
  EXPECT_EQ(rename["file_result"]["name"], "a");

  nlohmann::ordered_json exit = {{"seq", 8}, {"time", "2026-11-26T18:00:00.000000Z"},
                                 {"event", "worker.exit"}, {"prev", std::string(64, '0')},
                                 {"unit", "fetcher"}, {"worker_pid", 812},
                                 {"args", {{"cause", "shutdown"}}}, {"result", "killed by SIGKILL"}};
  auto ended = toOcsf(parsed(exit));
  EXPECT_EQ(ended["class_uid"], 1007);
  EXPECT_EQ(ended["activity_id"], 2);
  EXPECT_EQ(ended["process"]["pid"], 812);
  EXPECT_EQ(ended["status_detail"], "shutdown");
}

}  // namespace
}  // namespace airlock::audit

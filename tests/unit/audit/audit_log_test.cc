#include "audit/audit_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace airlock::audit {
namespace {

class FixedClock final : public WallClock {
 public:
  int64_t nowMicrosSinceEpoch() const override { return 1795717753123456; }
};

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/airlock-audit-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/audit.jsonl";
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  std::vector<nlohmann::json> lines() {
    std::vector<nlohmann::json> out;
    std::ifstream in(path_);
    std::string line;
    while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  std::string dir_, path_;
  FixedClock clock_;
};

TEST_F(AuditLogTest, EachRecordIsOneJsonLineWithSequenceTimeAndTheDecision) {
  auto log = AuditLog::open(path_, clock_);
  AuditRecord record;
  record.event = "fs.open";
  record.unit = "thumbnailer";
  record.workerPid = 42;
  record.caller = "uid:0";
  record.callId = "c-1";
  record.args["path"] = "/srv/images/a.png";
  record.decision = "allow";
  record.rule = "images-read-only";
  record.reason = "matched";
  record.result = "fd passed";
  ASSERT_TRUE(log->append(record));
  record.decision = "deny";
  ASSERT_TRUE(log->append(record));

  auto records = lines();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["seq"], 1);
  EXPECT_EQ(records[1]["seq"], 2);
  EXPECT_EQ(records[0]["time"], "2026-11-26T18:29:13.123456Z");
  EXPECT_EQ(records[0]["event"], "fs.open");
  EXPECT_EQ(records[0]["worker_pid"], 42);
  EXPECT_EQ(records[0]["args"]["path"], "/srv/images/a.png");
  EXPECT_EQ(records[0]["rule"], "images-read-only");
  EXPECT_EQ(records[1]["decision"], "deny");
  EXPECT_FALSE(records[0].contains("duration_us")) << "unset fields are omitted";
}

TEST_F(AuditLogTest, TheFileIsCreatedOwnerOnly) {
  auto log = AuditLog::open(path_, clock_);
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AuditLogTest, ReopeningContinuesTheSequence) {
  {
    auto log = AuditLog::open(path_, clock_);
    AuditRecord record;
    record.event = "broker.start";
    ASSERT_TRUE(log->append(record));
    ASSERT_TRUE(log->append(record));
  }
  auto log = AuditLog::open(path_, clock_);
  EXPECT_EQ(log->nextSequence(), 3u);
}

TEST_F(AuditLogTest, ADamagedLastLineIsRefusedRatherThanAppendedTo) {
  std::ofstream(path_) << "{\"seq\":1,\"event\":\"x\"}\n{\"seq\":2,\"ev";
  EXPECT_ANY_THROW(AuditLog::open(path_, clock_));
}

TEST_F(AuditLogTest, InvalidUtf8FromAWorkerIsReplacedNotFatal) {
  auto log = AuditLog::open(path_, clock_);
  AuditRecord record;
  record.event = "fs.open";
  record.args["path"] = std::string("/srv/\xff\xfe.png");
  ASSERT_TRUE(log->append(record));
  auto records = lines();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0]["args"]["path"].get<std::string>().find(".png"), std::string::npos);
}

TEST_F(AuditLogTest, AFullDiskMakesAppendFailSoCallersRefuse) {
  // /dev/full fails every write with ENOSPC: the real fault, without filling a disk.
  int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  AuditLog log(kj::AutoCloseFd(fd), "/dev/full", 1, clock_);
  AuditRecord record;
  record.event = "call";
  EXPECT_FALSE(log.append(record));
  EXPECT_EQ(log.nextSequence(), 1u) << "a record not written does not consume a sequence number";
}

}  // namespace
}  // namespace airlock::audit

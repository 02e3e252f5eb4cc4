#include "audit/audit_log.h"
#include "audit/group_commit.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/chain.h"
#include "tests/unit/audit/test_log.h"

namespace airlock::audit {
namespace {

using testing::FixedClock;
using testing::readLines;

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

TEST_F(AuditLogTest, EveryRecordOfALearningUnitSaysSoAndNoOtherRecordDoes) {
  auto log = AuditLog::open(path_, clock_);
  log->setLearningUnits({"thumbnailer"});
  AuditRecord record;
  record.event = "worker.spawn";
  record.unit = "thumbnailer";
  ASSERT_TRUE(log->append(record));
  record.unit = "extractor";
  ASSERT_TRUE(log->append(record));
  record.unit = "";
  record.event = "broker.start";
  ASSERT_TRUE(log->append(record));
  log->setLearningUnits({});  // a reload into an enforcing set
  record.unit = "thumbnailer";
  ASSERT_TRUE(log->append(record));

  auto records = lines();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0]["mode"], "learn");
  EXPECT_FALSE(records[1].contains("mode"));
  EXPECT_FALSE(records[2].contains("mode"));
  EXPECT_FALSE(records[3].contains("mode"));
  // Right after the unit, in the order the line is written.
  EXPECT_NE(readLines(path_).at(0).find("\"unit\":\"thumbnailer\",\"mode\":\"learn\""),
            std::string::npos);
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

TEST_F(AuditLogTest, ALastRecordWithAnEventOfAnotherTypeIsContinuedNotFatal) {
  // A whole record with a seq is a place to continue from; what its other fields hold is the
  // verifier's to judge, and must not stop airlockd from reopening its log.
  std::ofstream(path_) << "{\"seq\":1,\"event\":41}\n";
  auto log = AuditLog::open(path_, clock_);
  EXPECT_EQ(log->nextSequence(), 2u);
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

TEST_F(AuditLogTest, EachRecordCarriesTheHashOfTheLineBeforeItStartingFromZeros) {
  auto log = AuditLog::open(path_, clock_);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(log->append(testing::callRecord(i)));
  auto text = readLines(path_);
  ASSERT_EQ(text.size(), 3u);
  auto records = lines();
  EXPECT_EQ(records[0]["prev"], std::string(64, '0'));
  EXPECT_EQ(records[1]["prev"], lineHashHex(text[0]));
  EXPECT_EQ(records[2]["prev"], lineHashHex(text[1]));
  EXPECT_EQ(text[0].find("{\"seq\":1,\"time\":"), 0u) << "fixed key order: " << text[0];
}

TEST_F(AuditLogTest, ReopeningContinuesTheChainFromTheLastLine) {
  {
    auto log = AuditLog::open(path_, clock_);
    ASSERT_TRUE(log->append(testing::callRecord(1)));
    ASSERT_TRUE(log->append(testing::callRecord(2)));
  }
  {
    auto log = AuditLog::open(path_, clock_);
    ASSERT_TRUE(log->append(testing::callRecord(3)));
  }
  auto text = readLines(path_);
  ASSERT_EQ(text.size(), 3u);
  EXPECT_EQ(lines()[2]["prev"], lineHashHex(text[1]));
  EXPECT_EQ(lines()[2]["seq"], 3);
}

TEST_F(AuditLogTest, ASignedCheckpointFollowsEveryNRecordsAndCloseWritesAClosingOne) {
  auto key = SigningKey::generate();
  PublicKey publicKey = key->publicKey();
  AuditLogOptions options;
  options.key = kj::mv(key);
  options.checkpointEveryRecords = 2;
  options.anchorPath = dir_ + "/anchor.jsonl";
  {
    auto log = AuditLog::open(path_, clock_, kj::mv(options));
    for (int i = 1; i <= 3; ++i) ASSERT_TRUE(log->append(testing::callRecord(i)));
    log->close();
  }
  auto text = readLines(path_);
  auto records = lines();
  ASSERT_EQ(records.size(), 5u) << testing::readFile(path_);
  EXPECT_EQ(records[2]["event"], "checkpoint");
  EXPECT_EQ(records[2]["covers"], 2);
  EXPECT_EQ(records[2]["chain"], lineHashHex(text[1]));
  EXPECT_EQ(records[2]["prev"], records[2]["chain"]);
  EXPECT_EQ(records[2]["closing"], false);
  EXPECT_EQ(records[2]["key"], publicKey.hex());
  EXPECT_TRUE(publicKey.verifies(
      checkpointSigningInput(2, records[2]["chain"].get<std::string>(),
                             records[2]["time"].get<std::string>(), false),
      records[2]["sig"].get<std::string>()));
  EXPECT_EQ(records[3]["prev"], lineHashHex(text[2])) << "a checkpoint is chained like a record";
  EXPECT_EQ(records[4]["event"], "checkpoint");
  EXPECT_EQ(records[4]["covers"], 4);
  EXPECT_EQ(records[4]["closing"], true);
  auto anchor = readLines(dir_ + "/anchor.jsonl");
  ASSERT_EQ(anchor.size(), 2u);
  EXPECT_EQ(anchor[0], text[2]);
  EXPECT_EQ(anchor[1], text[4]);
  unlink((dir_ + "/anchor.jsonl").c_str());
}

TEST_F(AuditLogTest, WithoutAKeyThereAreNoCheckpoints) {
  auto log = AuditLog::open(path_, clock_);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(log->append(testing::callRecord(i)));
  EXPECT_TRUE(log->checkpoint());
  log->close();
  for (auto& record : lines()) EXPECT_NE(record["event"], "checkpoint");
}

TEST_F(AuditLogTest, GroupModeLeavesTheLogDirtyUntilSyncAlwaysModeSyncsEachRecord) {
  {
    auto log = AuditLog::open(path_, clock_);
    ASSERT_TRUE(log->append(testing::callRecord(1)));
    EXPECT_TRUE(log->dirty());
    EXPECT_TRUE(log->sync());
    EXPECT_FALSE(log->dirty());
  }
  AuditLogOptions options;
  options.sync = SyncMode::ALWAYS;
  auto log = AuditLog::open(path_, clock_, kj::mv(options));
  ASSERT_TRUE(log->append(testing::callRecord(2)));
  EXPECT_FALSE(log->dirty());
}

TEST_F(AuditLogTest, AShortWriteIsTruncatedAwaySoTheFileNeverHoldsAPartialLine) {
  auto log = AuditLog::open(path_, clock_);
  ASSERT_TRUE(log->append(testing::callRecord(1)));
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  // RLIMIT_FSIZE a few bytes past the end makes the next write(2) short: the real partial write.
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto previousHandler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit tight = {static_cast<rlim_t>(st.st_size + 10), saved.rlim_max};
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tight), 0);
  bool appended = log->append(testing::callRecord(2));
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, previousHandler);

  EXPECT_FALSE(appended);
  EXPECT_FALSE(log->failed()) << "the truncation worked, so the log can go on";
  struct stat after;
  ASSERT_EQ(stat(path_.c_str(), &after), 0);
  EXPECT_EQ(after.st_size, st.st_size) << "the partial line was truncated away";
  ASSERT_TRUE(log->append(testing::callRecord(3)));
  auto records = lines();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1]["seq"], 2) << "the failed record consumed no seq";
  EXPECT_TRUE(testing::verify(path_).ok()) << testing::describeAll(testing::verify(path_));
}

}  // namespace
}  // namespace airlock::audit

namespace airlock::audit {
namespace {

// Waits (bounded) for `done`; no timing threshold: the bound only stops a hung test.
template <typename Done>
bool eventually(Done done) {
  for (int i = 0; i < 500 && !done(); ++i) usleep(10000);
  return done();
}

TEST(GroupCommitThread, SyncsOnceAWindowForEverythingMarkedDirty) {
  char path[] = "/tmp/airlock-group-commit-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  kj::AutoCloseFd owned(fd);
  unlink(path);
  GroupCommitThread committer(fd, -1, std::chrono::milliseconds(1));
  EXPECT_EQ(committer.syncs(), 0u) << "nothing dirty, nothing synced";
  ASSERT_EQ(write(fd, "x\n", 2), 2);
  committer.markDirty();
  EXPECT_TRUE(eventually([&]() { return committer.syncs() >= 1; }));
  EXPECT_EQ(committer.failedErrno(), 0);
}

TEST_F(AuditLogTest, AFailedBackgroundSyncPutsTheLogInItsFailedStateSoCallsAreRefused) {
  // fdatasync on a pipe fails with EINVAL: a real failing sync without breaking a disk.
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  kj::AutoCloseFd readEnd(fds[0]);
  AuditLogOptions options;
  AuditLog log(kj::AutoCloseFd(fds[1]), "pipe", 1, clock_, kj::mv(options));
  log.startGroupCommitThread(std::chrono::milliseconds(1));
  AuditRecord record;
  record.event = "call";
  ASSERT_TRUE(log.append(record)) << "the write itself succeeds";
  bool refused = false;
  for (int i = 0; i < 500 && !refused; ++i) {
    usleep(10000);
    refused = !log.append(record);
  }
  EXPECT_TRUE(refused) << "after the background fdatasync failed, appends must fail";
  EXPECT_TRUE(log.failed());
}

}  // namespace
}  // namespace airlock::audit

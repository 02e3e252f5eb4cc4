// The extractor example end to end: real airlockd on the shipped policies/extractor.toml, the
// real sandboxed extractor-worker (libarchive), archives written by extractor-samples. The worker
// is naive about entry names on purpose; these tests check that the broker keeps every entry of a
// hostile archive inside the output directory, audits each refusal with its rule, and that the
// unit's limits stop a zip bomb without stopping the broker.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t FILE_SIZE_LIMIT = 8ull << 20;  // policies/extractor.toml: file_size_mib = 8

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ExtractorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto dir : {"inbox", "out", "canary"}) {
      ASSERT_EQ(mkdir(work_.file(dir).c_str(), 0755), 0) << dir;
    }
    auto samples = runProgram({binDir() + "/extractor-samples", inbox(), canary()});
    ASSERT_EQ(samples.exitCode, 0) << samples.output;
    BrokerOptions options;
    options.clients = {"web"};
    std::string policy = readFile(std::string(AIRLOCK_SOURCE_DIR) + "/policies/extractor.toml");
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"extractor.toml", policy}},
        std::map<std::string, std::string>{{"inbox_dir", inbox()}, {"output_dir", out()}}, options);
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  void TearDown() override {
    // Whatever a test did, nothing may have landed beside the output directory.
    EXPECT_TRUE(fs::is_empty(canary())) << "an entry escaped into " << canary();
  }

  std::string inbox() const { return work_.file("inbox"); }
  std::string out() const { return work_.file("out"); }
  std::string canary() const { return work_.file("canary"); }

  CallOutcome extract(const std::string& archive, const std::string& into = "") {
    auto client = broker_->connect("web");
    std::string outputDir = into.empty() ? out() : into;
    return client.unit("extractor").call("extract", inbox() + "/" + archive + "\n" + outputDir);
  }

  // The one record of `event` about `path` (args.path), which must exist.
  nlohmann::json recordFor(const std::string& event, const std::string& path) {
    auto records = broker_->auditRecords({{"event", event}});
    for (auto& record : records) {
      if (record["args"]["path"] == path) return record;
    }
    ADD_FAILURE() << "no " << event << " record for " << path;
    return nlohmann::json();
  }

  void expectDenied(const std::string& event, const std::string& path, const std::string& rule,
                    const std::string& reasonPart) {
    auto record = recordFor(event, path);
    EXPECT_EQ(record["decision"], "deny") << record.dump();
    EXPECT_EQ(record["rule"], rule) << record.dump();
    EXPECT_TRUE(contains(record.value("reason", ""), reasonPart)) << record.dump();
  }

  TempDir work_;  // inbox, out and canary: the broker's own directory holds its policies
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(ExtractorTest, TheBenignArchiveExtractsByteForByteThroughBrokeredCalls) {
  auto outcome = extract("benign.tar");
  ASSERT_TRUE(outcome.ok()) << outcome.describe() << "\n" << broker_->log();
  EXPECT_TRUE(contains(outcome.payload(), "6 entries: 6 extracted, 0 refused, 0 failed"))
      << outcome.payload();

  // GNU tar, an independent reader, unpacks the same archive as the reference.
  std::string reference = work_.file("reference");
  ASSERT_EQ(mkdir(reference.c_str(), 0755), 0);
  auto tar = runProgram({"/bin/tar", "-xf", inbox() + "/benign.tar", "-C", reference});
  ASSERT_EQ(tar.exitCode, 0) << tar.output;
  size_t compared = 0;
  for (auto& entry : fs::recursive_directory_iterator(reference)) {
    std::string relative = fs::relative(entry.path(), reference).string();
    std::string extracted = out() + "/" + relative;
    if (entry.is_directory()) {
      EXPECT_TRUE(fs::is_directory(fs::symlink_status(extracted))) << relative;
    } else {
      ASSERT_TRUE(fs::is_regular_file(fs::symlink_status(extracted))) << relative;
      EXPECT_EQ(readFile(extracted), readFile(entry.path())) << relative;
    }
    ++compared;
  }
  EXPECT_EQ(compared, 6u);
  EXPECT_EQ(readFile(out() + "/docs/nested/data.bin").size(), 200u * 1024);

  auto file = recordFor("fs.open", out() + "/docs/nested/data.bin");
  EXPECT_EQ(file["decision"], "allow");
  EXPECT_EQ(file["rule"], "output-files");
  EXPECT_EQ(file["args"]["mode"], "write,create,exclusive");
  EXPECT_EQ(recordFor("fs.mkdir", out() + "/docs")["rule"], "output-dirs");
  EXPECT_EQ(recordFor("fs.open", inbox() + "/benign.tar")["rule"], "inbox-read");
  // The hard link was a copy read back through the broker.
  auto source = broker_->auditRecords({{"event", "fs.open"}});
  size_t readBacks = 0;
  for (auto& record : source) {
    readBacks += record["args"]["path"] == out() + "/docs/readme.txt" &&
                 record["args"]["mode"] == "read";
  }
  EXPECT_EQ(readBacks, 1u);
}


TEST_F(ExtractorTest, DotDotEntriesAreRefusedBeforeAnyRuleAndNothingLeavesTheOutputDirectory) {
  auto outcome = extract("dotdot.tar");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_TRUE(contains(outcome.payload(), "2 entries: 0 extracted, 2 refused, 0 failed"))
      << outcome.payload();
  expectDenied("fs.open", out() + "/../canary/dotdot.txt", "default-deny", "'..' segment");
  expectDenied("fs.open", out() + "/docs/../../canary/deep.txt", "default-deny", "'..' segment");
  EXPECT_TRUE(fs::is_empty(out()));
}

TEST_F(ExtractorTest, AnAbsoluteEntryNameOutsideTheGrantIsDeniedByDefault) {
  auto outcome = extract("absolute.tar");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_TRUE(contains(outcome.payload(),
                       "refused file " + canary() + "/absolute.txt: denied by rule default-deny"))
      << outcome.payload();
  expectDenied("fs.open", canary() + "/absolute.txt", "default-deny", "no rule allows");
}

TEST_F(ExtractorTest, SymlinkEntriesAreRefusedAndAFileThroughOneLandsNowhere) {
  auto outcome = extract("symlink.tar");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_TRUE(contains(outcome.payload(), "3 entries: 0 extracted, 2 refused, 1 failed"))
      << outcome.payload();
  expectDenied("fs.symlink", out() + "/link", "no-symlinks", "");
  expectDenied("fs.symlink", out() + "/uplink", "no-symlinks", "");
  EXPECT_EQ(recordFor("fs.symlink", out() + "/link")["args"]["target"], canary());
  // The link was never made, so the file behind it has no directory to land in.
  auto through = recordFor("fs.open", out() + "/link/passwd");
  EXPECT_EQ(through["decision"], "allow") << through.dump();
  EXPECT_TRUE(contains(outcome.payload(), "failed file link/passwd: ENOENT")) << outcome.payload();
  EXPECT_FALSE(pathExists(out() + "/link"));
  EXPECT_FALSE(pathExists(out() + "/uplink"));
}

TEST_F(ExtractorTest, ASymlinkPlantedInTheOutputDirectoryIsNotFollowedByLaterWrites) {
  // Someone with write access to the output directory made `link` point outside before the
  // archive's file arrives through it.
  ASSERT_EQ(symlink(canary().c_str(), (out() + "/link").c_str()), 0);
  auto outcome = extract("symlink.tar");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_TRUE(contains(outcome.payload(), "3 entries: 0 extracted, 3 refused, 0 failed"))
      << outcome.payload();
  expectDenied("fs.open", out() + "/link/passwd", "output-files", "ELOOP");
}

TEST_F(ExtractorTest, DeviceNodesAndFifosAreNeverMadeAndEachRefusalIsAudited) {
  auto outcome = extract("special.tar");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_TRUE(contains(outcome.payload(), "2 entries: 0 extracted, 2 refused, 0 failed"))
      << outcome.payload();
  const std::string never = "the broker never creates device nodes, FIFOs or sockets";
  expectDenied("fs.mknod", out() + "/console", "default-deny", never);
  expectDenied("fs.mknod", out() + "/fifo", "default-deny", never);
  EXPECT_EQ(recordFor("fs.mknod", out() + "/console")["args"]["kind"], "character-device");
  EXPECT_EQ(recordFor("fs.mknod", out() + "/fifo")["args"]["kind"], "fifo");
  EXPECT_TRUE(fs::is_empty(out()));
}

TEST_F(ExtractorTest, HardLinksToFilesOutsideAreRefusedWhenTheCopyReadsThem) {
  auto outcome = extract("hardlink.tar");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_TRUE(contains(outcome.payload(), "2 entries: 0 extracted, 2 refused, 0 failed"))
      << outcome.payload();
  expectDenied("fs.open", "/etc/passwd", "default-deny", "no rule allows");
  expectDenied("fs.open", out() + "/../canary/x", "default-deny", "'..' segment");
  EXPECT_TRUE(fs::is_empty(out())) << "no copy of /etc/passwd was made";
}

TEST_F(ExtractorTest, AZipBombMeetsTheFileSizeLimitAndTheUnitServesTheNextArchive) {
  auto outcome = extract("bomb.tar.gz");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  // The worker is PID 1 of its namespace, so the kernel does not deliver the SIGXFSZ that
  // RLIMIT_FSIZE raises (init gets no signal it has no handler for); write(2) fails with EFBIG
  // instead, and the worker reports the entry and carries on.
  EXPECT_TRUE(contains(outcome.payload(), "failed file zeros.bin: write: EFBIG"))
      << outcome.payload();
  EXPECT_TRUE(broker_->auditRecords({{"event", "worker.exit"}}).empty());
  auto opened = recordFor("fs.open", out() + "/zeros.bin");
  EXPECT_EQ(opened["decision"], "allow") << opened.dump();
  // RLIMIT_FSIZE let the file grow to the limit and not one byte past it.
  EXPECT_EQ(fs::file_size(out() + "/zeros.bin"), FILE_SIZE_LIMIT);

  ASSERT_EQ(mkdir((out() + "/after").c_str(), 0755), 0);
  auto next = extract("benign.tar", out() + "/after");
  ASSERT_TRUE(next.ok()) << next.describe();
  EXPECT_TRUE(contains(next.payload(), "6 entries: 6 extracted")) << next.payload();
  EXPECT_EQ(readFile(out() + "/after/top.txt"), "top level\n");
}

TEST_F(ExtractorTest, ABrokenArchiveIsTheOnlyErrorAndSaysWhatWasExtractedBeforeIt) {
  auto outcome = extract("truncated.tar");
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.errorKind(), CallErrorKind::WORKER_FAILED) << outcome.describe();
  EXPECT_TRUE(contains(outcome.message(), "broken archive: ")) << outcome.message();
  EXPECT_TRUE(contains(outcome.message(), "extracted file docs/readme.txt")) << outcome.message();
  EXPECT_EQ(readFile(out() + "/docs/readme.txt"),
            "An archive unpacked by a sandboxed libarchive.\n");
}

}  // namespace
}  // namespace airlock::testing

// What a host or a worker chooses never grows airlockd's audit log or its own log without bound,
// and a unit's max_payload_bytes holds for answers as for requests: a huge method or unit name,
// a worker's huge error text or answer, and a worker's raw or flooding output.

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include "audit/bounded_field.h"
#include "audit/chain.h"
#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

std::string probeUnit(const std::string& name, const std::string& extra = "") {
  return "[unit]\nname = \"" + name + "\"\nworker = \"test-probe_worker\"\n" + extra +
         "\n[[rule]]\nid = \"tester-calls\"\nallow = \"call\"\ncaller = [\"tester\"]\n"
         "method = [\"*\"]\n";
}

class AnswerBoundsTest : public ::testing::Test {
 protected:
  void start(const std::map<std::string, std::string>& policies) {
    broker_ = std::make_unique<BrokerProcess>(policies);
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  // A string field as recorded: at most the bound plus its " [cut: ...]" marker, and that
  // marker names the full length and the BLAKE2b of all of it.
  void expectBounded(const nlohmann::json& field, const std::string& whole) {
    ASSERT_TRUE(field.is_string()) << field.dump();
    std::string recorded = field.get<std::string>();
    EXPECT_LE(recorded.size(), audit::MAX_RECORD_FIELD_BYTES + 120) << "kept whole";
    std::string marker = " [cut: " + std::to_string(whole.size()) + " bytes, blake2b-256 " +
                         audit::lineHashHex(whole) + "]";
    EXPECT_NE(recorded.find(marker), std::string::npos) << recorded.substr(0, 200);
  }

  std::vector<nlohmann::json> callRecords(const std::string& method) {
    std::vector<nlohmann::json> out;
    for (auto& record : broker_->auditRecords({{"event", "call"}})) {
      if (record["args"]["method"] == method) out.push_back(record);
    }
    return out;
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(AnswerBoundsTest, AHugeMethodNameIsRecordedAsABoundedPrefixWithItsLengthAndHash) {
  start({{"probe.toml", probeUnit("probe")}});
  std::string method(512 << 10, 'm');
  auto outcome = broker_->connect().unit("probe").call(method, "");
  EXPECT_EQ(outcome.errorKind(), CallErrorKind::DENIED) << outcome.describe();
  auto calls = broker_->auditRecords({{"event", "call"}});
  ASSERT_EQ(calls.size(), 1u);
  std::string recorded = calls[0]["args"]["method"].get<std::string>();
  EXPECT_EQ(recorded, audit::boundedField(method, 64)) << "a name no worker can export";
  EXPECT_LT(calls[0].dump().size(), 2048u) << "the record stays small";
}

TEST_F(AnswerBoundsTest, AHugeUnitNameIsRecordedAsABoundedPrefixAndRefusedAsNoSuchUnit) {
  start({{"probe.toml", probeUnit("probe")}});
  std::string unit(512 << 10, 'u');
  auto outcome = broker_->connect().unit(unit).call("echo", "");
  EXPECT_EQ(outcome.errorKind(), CallErrorKind::NO_SUCH_UNIT) << outcome.describe();
  auto calls = broker_->auditRecords({{"event", "call"}});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["unit"], audit::boundedField(unit, 64));
  EXPECT_LT(calls[0].dump().size(), 2048u) << "the name is not repeated whole in the reason";
}

TEST_F(AnswerBoundsTest, AWorkersHugeErrorTextIsRecordedBounded) {
  start({{"probe.toml", probeUnit("probe")}});
  auto outcome = broker_->connect().unit("probe").call("error-bytes", "8388608");
  EXPECT_EQ(outcome.errorKind(), CallErrorKind::WORKER_FAILED) << outcome.describe();
  auto calls = callRecords("error-bytes");
  ASSERT_EQ(calls.size(), 1u);
  expectBounded(calls[0]["result"], "worker failed: " + std::string(8 << 20, 'e'));
}

TEST_F(AnswerBoundsTest, AnAnswerOverMaxPayloadBytesFailsTheCallAndIsRecorded) {
  start({{"probe.toml", probeUnit("probe", "max_payload_bytes = 4096")}});
  auto client = broker_->connect();
  auto fits = client.unit("probe").call("answer-bytes", "4096");
  ASSERT_TRUE(fits.ok()) << fits.describe();
  EXPECT_EQ(fits.payload().size(), 4096u);
  auto over = client.unit("probe").call("answer-bytes", "4097");
  EXPECT_EQ(over.errorKind(), CallErrorKind::WORKER_FAILED) << over.describe();
  EXPECT_NE(over.message().find("answer of 4097 bytes exceeds max_payload_bytes 4096"),
            std::string::npos)
      << over.describe();
  auto calls = callRecords("answer-bytes");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["result"], "ok");
  EXPECT_NE(calls[1]["result"].get<std::string>().find("exceeds max_payload_bytes 4096"),
            std::string::npos)
      << calls[1].dump();
}

TEST_F(AnswerBoundsTest, AnInvokedUnitsAnswerOverItsMaxPayloadBytesFailsTheInvoke) {
  start({{"front.toml",
          "[unit]\nname = \"front\"\nworker = \"test-probe_worker\"\n\n"
          "[[rule]]\nid = \"tester-calls-front\"\nallow = \"call\"\ncaller = [\"tester\"]\n"
          "method = [\"*\"]\n\n"
          "[[rule]]\nid = \"front-invokes-back\"\nallow = \"invoke\"\nunit = [\"back\"]\n"
          "method = [\"answer-bytes\"]\n"},
         {"back.toml",
          "[unit]\nname = \"back\"\nworker = \"test-probe_worker\"\nmax_payload_bytes = 1024\n\n"
          "[[rule]]\nid = \"front-calls-back\"\nallow = \"call\"\ncaller_unit = [\"front\"]\n"
          "method = [\"answer-bytes\"]\n"}});
  auto client = broker_->connect();
  auto fits = client.unit("front").call("invoke", "back answer-bytes 1024");
  ASSERT_TRUE(fits.ok()) << fits.describe();
  EXPECT_EQ(fits.payload(), "ok:" + std::string(1024, 'a'));
  auto over = client.unit("front").call("invoke", "back answer-bytes 1025");
  ASSERT_TRUE(over.ok()) << over.describe();
  EXPECT_NE(over.payload().find("exceeds max_payload_bytes 1024"), std::string::npos)
      << over.payload().substr(0, 300);
  EXPECT_EQ(over.payload().find(std::string(1025, 'a')), std::string::npos) << "never delivered";
  auto calls = broker_->auditRecords({{"event", "call"}, {"unit", "back"}});
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_NE(calls[1]["result"].get<std::string>().find("exceeds max_payload_bytes 1024"),
            std::string::npos)
      << calls[1].dump();
}

TEST_F(AnswerBoundsTest, AWorkersRawOutputIsEscapedAndItsFloodIsRateLimitedAndCounted) {
  start({{"probe.toml", probeUnit("probe")}});
  auto client = broker_->connect();
  std::string forged = "ok\rairlockd 2026-01-01T00:00:00.000 info: \x1b[32mforged\x1b[0m";
  ASSERT_TRUE(client.unit("probe").call("print", forged).ok());
  ASSERT_TRUE(client.unit("probe").call("print-flood", "20000").ok());
  // The flood's count line comes a report period after it engaged.
  std::string log;
  for (int i = 0; i < 500 && log.find("dropped ") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = broker_->log();
  }
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << "no terminal escape reaches airlockd's log";
  EXPECT_EQ(log.find("\rairlockd"), std::string::npos) << "no carriage return either";
  EXPECT_NE(log.find("forged"), std::string::npos) << "the line is there, escaped";
  static const std::regex DROPPED("\\[probe\\] dropped ([0-9]+) log lines");
  std::smatch dropped;
  ASSERT_TRUE(std::regex_search(log, dropped, DROPPED)) << log.substr(log.size() - 2000);
  EXPECT_GT(std::stoul(dropped[1]), 1000u) << "most of the flood was dropped, and counted";
  size_t kept = 0;
  for (size_t at = log.find("flood line"); at != std::string::npos;
       at = log.find("flood line", at + 1)) {
    ++kept;
  }
  EXPECT_LT(kept, 5000u) << "the unit's log budget held";
  EXPECT_FALSE(broker_->auditRecords({{"event", "log.rate_limited"}}).empty());
}

}  // namespace
}  // namespace airlock::testing

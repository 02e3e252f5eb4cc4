// `airlock audit verify` and `airlock audit report` over a fleet: the logs of two real airlockd
// processes, each signed with its own key, checked at once. Each broker's lines name it, each log
// is held to its own key, a tampered line is named with the broker it came from, and the one HTML
// page (loaded in headless Chromium) shows every broker's units apart.

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/chromium_page.h"
#include "tests/integration/support/sample_traffic.h"

namespace airlock::testing {
namespace {

const std::vector<std::string> NAMES = {"web-1", "web-2"};

// One broker of the fleet, stopped after its traffic: its closed log, its key and its anchor.
struct FleetMember {
  std::unique_ptr<BrokerProcess> broker;
  std::string anchor;
  size_t records = 0;
};

class AuditFleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto& name : NAMES) {
      FleetMember member;
      member.anchor = scratch_.file(name + "-anchor.jsonl");
      member.broker = startSampleBroker({"--anchor", member.anchor});
      // The second broker sees one denial more, so the two logs' counts differ.
      std::vector<std::string> denied = {"/etc/passwd"};
      if (name == "web-2") denied.push_back("/etc/shadow");
      driveSampleTraffic(*member.broker, denied);
      ASSERT_FALSE(HasFatalFailure());
      member.records = member.broker->auditRecords().size();
      fleet_[name] = std::move(member);
    }
    ASSERT_NE(fleet_["web-1"].broker->brokerPublicKey(), fleet_["web-2"].broker->brokerPublicKey());
  }

  // The arguments giving each broker's key, anchor and log after --broker NAME; `logOf` and
  // `keyOf` replace a broker's own log or key.
  std::vector<std::string> fleetArguments(std::map<std::string, std::string> logOf = {},
                                          std::map<std::string, std::string> keyOf = {}) {
    std::vector<std::string> args;
    for (auto& name : NAMES) {
      auto& member = fleet_[name];
      std::string log = logOf.count(name) ? logOf[name] : member.broker->auditPath();
      std::string key = keyOf.count(name) ? keyOf[name] : member.broker->brokerPublicKey();
      args.insert(args.end(), {"--broker", name, "--key", key, "--anchor", member.anchor, log});
    }
    return args;
  }

  RunResult verify(std::vector<std::string> fleetArgs) {
    std::vector<std::string> argv = {binDir() + "/airlock", "audit", "verify", "--require-closed"};
    argv.insert(argv.end(), fleetArgs.begin(), fleetArgs.end());
    return runProgram(argv);
  }

  RunResult report(const std::string& html, std::vector<std::string> fleetArgs) {
    std::vector<std::string> argv = {binDir() + "/airlock", "audit", "report", "--html", html};
    argv.insert(argv.end(), fleetArgs.begin(), fleetArgs.end());
    return runProgram(argv);
  }

  // A copy of `name`'s log with its first fs.open denial's path changed: a modified record.
  std::string tamperedCopyOf(const std::string& name) {
    auto lines = readFile(fleet_[name].broker->auditPath());
    const std::string path = "\"path\":\"/etc/passwd\"";
    auto at = lines.find(path);
    EXPECT_NE(at, std::string::npos);
    if (at != std::string::npos) lines.replace(at, path.size(), "\"path\":\"/etc/hosts\"");
    std::string copy = scratch_.file(name + "-tampered.jsonl");
    std::ofstream(copy) << lines;
    return copy;
  }

  // The 1-based line of the first record whose text holds `what` in `name`'s log.
  size_t lineOf(const std::string& name, const std::string& what) {
    std::istringstream log(readFile(fleet_[name].broker->auditPath()));
    size_t number = 0;
    for (std::string line; std::getline(log, line);) {
      ++number;
      if (line.find(what) != std::string::npos) return number;
    }
    return 0;
  }

  TempDir scratch_;
  std::map<std::string, FleetMember> fleet_;
};

TEST_F(AuditFleetTest, EachBrokersLogIsVerifiedAndItsLineNamesIt) {
  auto result = verify(fleetArguments());
  ASSERT_EQ(result.exitCode, 0) << result.output;
  for (auto& name : NAMES) {
    std::regex ok("(^|\n)" + name + ": ok: " + std::to_string(fleet_[name].records) +
                  " records, [0-9]+ signed checkpoints, chain intact, anchor matches");
    EXPECT_TRUE(std::regex_search(result.output, ok)) << name << ":\n" << result.output;
  }
}

TEST_F(AuditFleetTest, EachLogIsHeldToItsOwnBrokersKey) {
  // web-2's log checked against web-1's key: web-2 fails, web-1 is still reported intact.
  auto result = verify(fleetArguments({}, {{"web-2", fleet_["web-1"].broker->brokerPublicKey()}}));
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_TRUE(std::regex_search(result.output, std::regex("(^|\n)web-1: ok: ")))
      << result.output;
  EXPECT_TRUE(std::regex_search(result.output, std::regex("(^|\n)web-2: [^\n]*wrong key")))
      << result.output;
  EXPECT_FALSE(std::regex_search(result.output, std::regex("(^|\n)web-2: ok: "))) << result.output;
}

TEST_F(AuditFleetTest, ATamperedRecordIsNamedWithItsBrokerFileAndLine) {
  auto copy = tamperedCopyOf("web-2");
  size_t line = lineOf("web-2", "\"path\":\"/etc/passwd\"");
  ASSERT_GT(line, 0u);
  auto result = verify(fleetArguments({{"web-2", copy}}));
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_NE(result.output.find("web-2: " + copy + ":" + std::to_string(line) + ": seq "),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("modified record"), std::string::npos) << result.output;
  EXPECT_TRUE(std::regex_search(result.output, std::regex("(^|\n)web-1: ok: "))) << result.output;
}

TEST_F(AuditFleetTest, OnePageShowsEveryBrokersUnitsApartAndTheirVerification) {
  ASSERT_EQ(access(CHROMIUM, X_OK), 0) << CHROMIUM << " missing: run scripts/install-deps";
  std::string html = scratch_.file("fleet.html");
  auto made = report(html, fleetArguments());
  ASSERT_EQ(made.exitCode, 0) << made.output;
  auto page = loadInChromium(html);
  ASSERT_EQ(page.exitCode, 0);
  EXPECT_EQ(page.consoleLines, "") << "the page logged console messages";
  EXPECT_NE(page.dom.find("id=\"verification\" class=\"ok\" data-ok=\"true\""), std::string::npos);
  for (auto& name : NAMES) {
    // Every record of the sample unit is counted under its own broker's name.
    size_t unitRecords = 0;
    for (auto& record : fleet_[name].broker->auditRecords()) {
      unitRecords += record.contains("unit") && record["unit"] == "probe";
    }
    std::smatch row;
    ASSERT_TRUE(std::regex_search(
        page.dom, row,
        std::regex("<tr data-unit=\"" + name + "/probe\"><td>" + name +
                   "/probe</td><td class=\"n records\">(\\d+)</td>")))
        << name;
    EXPECT_EQ(std::stoul(row[1]), unitRecords) << name;
    EXPECT_NE(page.dom.find(name + ": ok: "), std::string::npos) << name << "'s verification line";
  }
}

TEST_F(AuditFleetTest, APageOverATamperedFleetSaysWhichBrokersLogFailed) {
  ASSERT_EQ(access(CHROMIUM, X_OK), 0) << CHROMIUM << " missing: run scripts/install-deps";
  std::string html = scratch_.file("tampered-fleet.html");
  auto made = report(html, fleetArguments({{"web-1", tamperedCopyOf("web-1")}}));
  EXPECT_EQ(made.exitCode, 1) << made.output;
  auto page = loadInChromium(html);
  ASSERT_EQ(page.exitCode, 0);
  EXPECT_NE(page.dom.find("id=\"verification\" class=\"fail\" data-ok=\"false\""),
            std::string::npos);
  EXPECT_NE(page.dom.find("web-1: " + scratch_.file("web-1-tampered.jsonl") + ":"),
            std::string::npos)
      << "the failing broker is named with its file";
  EXPECT_NE(page.dom.find("web-2: ok: "), std::string::npos);
}

}  // namespace
}  // namespace airlock::testing

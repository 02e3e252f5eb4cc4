// `airlock audit report` on a real airlockd's log, loaded in a real headless Chromium: the page
// shows the verification result and the numbers the test computes from the log on its own, its
// script runs without console errors, and worker-chosen paths that are HTML show as text and
// never run.

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

const std::string SCRIPT_PATH = "<script>alert(1)</script>";
const std::string IMG_PATH = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">";

size_t occurrences(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

std::string field(const nlohmann::json& record, const char* key) {
  return record.contains(key) ? record[key].get<std::string>() : "";
}

class AuditReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(CHROMIUM, X_OK), 0) << CHROMIUM << " missing: run scripts/install-deps";
    broker_ = startSampleBroker({"--anchor", scratch_.file("anchor.jsonl")});
    driveSampleTraffic(*broker_, {"/etc/passwd", "/etc/passwd",
                                  broker_->dir().file("secret/" + SCRIPT_PATH),
                                  broker_->dir().file("secret/" + IMG_PATH)});
    ASSERT_FALSE(HasFatalFailure());
    for (auto& record : broker_->auditRecords()) records_.push_back(record);
  }

  RunResult report(const std::string& log, const std::string& html) {
    return runProgram({binDir() + "/airlock", "audit", "report", "--html", html, log, "--key",
                       broker_->brokerPublicKey(), "--anchor", scratch_.file("anchor.jsonl")});
  }

  TempDir scratch_;
  std::unique_ptr<BrokerProcess> broker_;
  std::vector<nlohmann::json> records_;
};

TEST_F(AuditReportTest, ChromiumShowsTheNumbersTheTestComputesFromTheRealLog) {
  std::map<std::string, int> unitRecords, unitAllowed, unitDenied;
  int denied = 0, workerExits = 0;
  for (auto& r : records_) {
    denied += field(r, "decision") == "deny";
    if (field(r, "unit").empty()) continue;
    unitRecords[field(r, "unit")]++;
    unitAllowed[field(r, "unit")] += field(r, "decision") == "allow";
    unitDenied[field(r, "unit")] += field(r, "decision") == "deny";
    workerExits += field(r, "event") == "worker.exit";
  }
  ASSERT_GE(denied, 6) << "4 denied opens and 2 denied calls";
  ASSERT_GE(workerExits, 1) << "the crash";

  std::string html = scratch_.file("report.html");
  auto made = report(broker_->auditPath(), html);
  ASSERT_EQ(made.exitCode, 0) << made.output;
  auto page = loadInChromium(html);
  ASSERT_EQ(page.exitCode, 0);
  ASSERT_FALSE(page.dom.empty());
  EXPECT_EQ(page.consoleLines, "") << "the page logged console messages";
  EXPECT_NE(page.dom.find("id=\"js-status\" class=\"muted\" data-state=\"ran\""), std::string::npos)
      << "the page's script did not run";

  EXPECT_NE(page.dom.find("id=\"verification\" class=\"ok\" data-ok=\"true\""), std::string::npos);
  EXPECT_NE(page.dom.find("chain intact, anchor matches"), std::string::npos);
  EXPECT_NE(page.dom.find("<span id=\"total-denied\">" + std::to_string(denied) + "</span>"),
            std::string::npos);
  ASSERT_EQ(unitRecords.size(), 1u);
  std::smatch row;
  ASSERT_TRUE(std::regex_search(
      page.dom, row,
      std::regex("<tr data-unit=\"probe\"><td>probe</td><td class=\"n records\">(\\d+)</td>"
                 "<td class=\"n allowed\">(\\d+)</td><td class=\"n denied\">(\\d+)</td>")));
  EXPECT_EQ(std::stoi(row[1]), unitRecords["probe"]);
  EXPECT_EQ(std::stoi(row[2]), unitAllowed["probe"]);
  EXPECT_EQ(std::stoi(row[3]), unitDenied["probe"]);

  int charted = 0;
  std::regex bar("<rect class=\"denied-bar\"[^>]*data-denied=\"(\\d+)\"");
  for (std::sregex_iterator it(page.dom.begin(), page.dom.end(), bar), end; it != end; ++it) {
    charted += std::stoi((*it)[1]);
  }
  EXPECT_EQ(charted, denied) << "every denial is in the chart once";

  EXPECT_TRUE(std::regex_search(
      page.dom, std::regex("<td class=\"n count\">2</td><td>probe</td><td>fs.open</td>"
                           "<td class=\"args\">[^<]*/etc/passwd[^<]*</td>"
                           "<td class=\"rule\">default-deny</td>")))
      << "the twice-denied open, with the rule that denied it";
  EXPECT_NE(page.dom.find("killed by SIGSEGV"), std::string::npos) << "the crash's worker.exit";
  EXPECT_EQ(occurrences(page.dom, "data-event=\"worker.exit\""), size_t(workerExits));

  // How the calls ended, apart from their decisions; crashes apart from airlockd's stops.
  int okCalls = 0, crashedCalls = 0, crashes = 0, stops = 0;
  for (auto& r : records_) {
    if (field(r, "event") == "call") {
      okCalls += field(r, "result") == "ok";
      crashedCalls += field(r, "result").rfind("unit crashed", 0) == 0;
    }
    if (field(r, "event") == "worker.exit") {
      crashes += r["args"]["cause"] == "crashed";
      stops += r["args"]["cause"] == "shutdown";
    }
  }
  ASSERT_EQ(crashedCalls, 1) << "the crash call, allowed and crashed";
  ASSERT_EQ(crashes, 1);
  ASSERT_GE(stops, 1) << "the worker airlockd stopped at its shutdown";
  std::smatch outcomes;
  ASSERT_TRUE(std::regex_search(
      page.dom, outcomes,
      std::regex("<tr data-unit=\"probe\">.*?<td class=\"n outcome-ok\">(\\d+)</td>"
                 "<td class=\"n outcome-crashed\">(\\d+)</td>.*?"
                 "<td class=\"n crashes\">(\\d+)</td><td class=\"n stopped\">(\\d+)</td>")))
      << "the unit row's outcome and worker columns";
  EXPECT_EQ(std::stoi(outcomes[1]), okCalls);
  EXPECT_EQ(std::stoi(outcomes[2]), crashedCalls);
  EXPECT_EQ(std::stoi(outcomes[3]), crashes) << "the shutdown's SIGKILL is not a crash";
  EXPECT_EQ(std::stoi(outcomes[4]), stops);
  EXPECT_EQ(occurrences(page.dom, "data-cause=\"crashed\""), size_t(crashes));
  EXPECT_EQ(occurrences(page.dom, "data-cause=\"shutdown\""), size_t(stops));
  EXPECT_NE(page.dom.find("<tr data-caller=\"client:tester,uid:"), std::string::npos)
      << "call outcomes per caller";
}

TEST_F(AuditReportTest, WorkerChosenPathsThatAreHtmlShowAsTextAndNeverRun) {
  std::string html = scratch_.file("report.html");
  ASSERT_EQ(report(broker_->auditPath(), html).exitCode, 0);
  auto page = loadInChromium(html);
  ASSERT_FALSE(page.dom.empty());
  EXPECT_NE(page.dom.find("/secret/&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos)
      << "the path shows as text";
  EXPECT_NE(page.dom.find("/secret/&lt;img src=x onerror="), std::string::npos);
  EXPECT_EQ(occurrences(page.dom, "<script"), 1u) << "only the page's own script element";
  EXPECT_EQ(occurrences(page.dom, "<img"), 0u);
  EXPECT_FALSE(std::regex_search(page.dom, std::regex("<[a-zA-Z][^<>]*\\sdata-pwned=")))
      << "the onerror handler never ran";
  EXPECT_EQ(page.consoleLines, "");
}

TEST_F(AuditReportTest, ADoctoredLogGivesAPageThatSaysVerificationFailedAndWhere) {
  auto lines = readFile(broker_->auditPath());
  std::string passed = "\"result\":\"fd passed\"";
  auto at = lines.find(passed);
  ASSERT_NE(at, std::string::npos);
  lines.replace(at, passed.size(), "\"result\":\"refused\"");
  std::string doctored = scratch_.file("doctored.jsonl");
  std::ofstream(doctored) << lines;
  std::string html = scratch_.file("doctored.html");
  auto made = report(doctored, html);
  EXPECT_EQ(made.exitCode, 1) << made.output;
  EXPECT_NE(made.output.find(doctored + ":"), std::string::npos) << made.output;
  auto page = loadInChromium(html);
  EXPECT_NE(page.dom.find("id=\"verification\" class=\"fail\" data-ok=\"false\""),
            std::string::npos);
  EXPECT_NE(page.dom.find("modified record"), std::string::npos);
}

// The console check above can fail: a page with a script error is caught by it.
TEST(AuditReportChromium, AScriptErrorOnAPageIsSeenInTheConsoleLines) {
  ASSERT_EQ(access(CHROMIUM, X_OK), 0) << CHROMIUM << " missing: run scripts/install-deps";
  TempDir dir;
  dir.write("bad.html", "<html><body><script>undefinedFunction();</script></body></html>");
  auto page = loadInChromium(dir.file("bad.html"));
  EXPECT_NE(page.consoleLines.find("Uncaught ReferenceError"), std::string::npos)
      << page.consoleLines;
}

}  // namespace
}  // namespace airlock::testing

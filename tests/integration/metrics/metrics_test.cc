// airlockd --metrics through a real airlockd: a known workload on real sandboxed workers (calls
// allowed and denied, brokered opens allowed and denied, a crash, reloads applied and refused),
// then a scrape over the Unix socket and over TCP whose counters must be exactly that workload;
// Debian's promtool must find nothing wrong with a real scrape; and a TCP address that is not
// loopback is refused unless the operator allows it.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "sdk/host/client.h"
#include "tests/integration/metrics/scrape.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

using Labels = std::map<std::string, std::string>;

// The probe unit: it may echo, read (fs.open beneath ${data}) and crash; `exit` is named by
// no rule, so calling it is denied.
const char PROBE_POLICY[] = R"(
[unit]
name = "probe"
worker = "test-probe_worker"
call_timeout_ms = 60000

[[rule]]
id = "tester-calls-probe"
allow = "call"
caller = ["tester"]
method = ["echo", "read", "crash"]

[[rule]]
id = "read-data"
allow = "fs.open"
path = "${data}/**"
mode = ["read"]
)";

// No checkpoint may fall between a scrape and a look at the log: the counts compared are exact.
const std::vector<std::string> NO_CHECKPOINTS = {"--checkpoint-every", "1000000",
                                                 "--checkpoint-ms", "3600000"};

std::vector<std::string> withMetrics(std::vector<std::string> args, const std::string& where) {
  args.push_back("--metrics");
  args.push_back(where);
  return args;
}

// The port airlockd logged it serves metrics on (it was started with port 0).
int loggedPort(const BrokerProcess& broker) {
  std::smatch match;
  std::string log = broker.log();
  static const std::regex served("metrics: serving GET /metrics on [^ ]*:([0-9]+)");
  if (!std::regex_search(log, match, served)) return -1;
  return std::stoi(match[1]);
}

size_t countRecords(const BrokerProcess& broker, const nlohmann::json& filter) {
  return broker.auditRecords(filter).size();
}

// Waits until the log holds `count` records matching `filter`.
bool waitForRecords(const BrokerProcess& broker, const nlohmann::json& filter, size_t count) {
  for (int i = 0; i < 200; ++i) {
    if (countRecords(broker, filter) >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

class MetricsTest : public ::testing::Test {
 protected:
  void start(const std::string& metricsAt) {
    ASSERT_EQ(mkdir(place_.file("data").c_str(), 0755), 0);
    place_.write("data/a.txt", "hello");
    BrokerOptions options;
    options.extraArgs = withMetrics(NO_CHECKPOINTS, metricsAt);
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"probe.toml", PROBE_POLICY}},
        std::map<std::string, std::string>{{"data", place_.file("data")}}, options);
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  TempDir place_;  // the metrics socket and the files the unit may read
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(MetricsTest, AScrapeCountsExactlyTheWorkloadFromTheUnixSocket) {
  std::string socket = place_.file("metrics.sock");
  start(socket);
  const int allowed = 5, denied = 3, refusedOpens = 2;
  {
    Client client = broker_->connect();
    for (int i = 0; i < allowed; ++i) ASSERT_TRUE(client.unit("probe").call("echo", "hi").ok());
    for (int i = 0; i < denied; ++i) {
      EXPECT_EQ(client.unit("probe").call("exit", "").errorKind(), CallErrorKind::DENIED);
    }
    EXPECT_TRUE(client.unit("probe").call("read", place_.file("data/a.txt")).ok());
    for (int i = 0; i < refusedOpens; ++i) {
      EXPECT_EQ(client.unit("probe").call("read", "/etc/passwd").errorKind(),
                CallErrorKind::WORKER_FAILED);
    }
    EXPECT_EQ(client.unit("probe").call("crash", "").errorKind(), CallErrorKind::UNIT_CRASHED);
  }
  ASSERT_TRUE(waitForRecords(*broker_, {{"event", "worker.spawn"}}, 2)) << broker_->log();
  // A reload that applies (the same set) and one that is refused (a broken file added).
  ASSERT_EQ(kill(broker_->pid(), SIGHUP), 0);
  ASSERT_TRUE(waitForRecords(*broker_, {{"event", "policy.reload"}}, 1));
  broker_->dir().write("policies/broken.toml", "[unit\n");
  ASSERT_EQ(kill(broker_->pid(), SIGHUP), 0);
  ASSERT_TRUE(waitForRecords(*broker_, {{"event", "policy.reload"}}, 2));

  HttpAnswer answer = httpGetUnix(socket);
  ASSERT_EQ(answer.status, 200) << answer.headers << broker_->log();
  EXPECT_NE(answer.headers.find("text/plain; version=0.0.4"), std::string::npos) << answer.headers;
  auto samples = parseSamples(answer.body);
  auto calls = [&](const std::string& method, const std::string& decision,
                   const std::string& result) {
    return sampleValue(samples, "airlock_calls_total",
                       {{"unit", "probe"}, {"method", method}, {"decision", decision},
                        {"result", result}});
  };
  EXPECT_EQ(calls("echo", "allow", "ok"), allowed) << answer.body;
  EXPECT_EQ(calls("exit", "deny", "denied"), denied) << answer.body;
  EXPECT_EQ(calls("read", "allow", "ok"), 1) << answer.body;
  EXPECT_EQ(calls("read", "allow", "worker_failed"), refusedOpens) << answer.body;
  EXPECT_EQ(calls("crash", "allow", "unit_crashed"), 1) << answer.body;
  EXPECT_EQ(sampleValue(samples, "airlock_requests_total",
                        {{"operation", "fs.open"}, {"decision", "allow"}}), 1);
  EXPECT_EQ(sampleValue(samples, "airlock_requests_total",
                        {{"operation", "fs.open"}, {"decision", "deny"}}), refusedOpens);
  EXPECT_EQ(sampleValue(samples, "airlock_worker_spawns_total",
                        {{"unit", "probe"}, {"outcome", "started"}}), 2);
  EXPECT_EQ(sampleValue(samples, "airlock_worker_exits_total",
                        {{"unit", "probe"}, {"cause", "crashed"}}), 1);
  EXPECT_EQ(sampleValue(samples, "airlock_worker_restarts_total", {{"unit", "probe"}}), 1);
  EXPECT_EQ(sampleValue(samples, "airlock_unit_workers", {{"unit", "probe"}}), 1);
  EXPECT_EQ(sampleValue(samples, "airlock_unit_parked", {{"unit", "probe"}}), 0);
  EXPECT_EQ(sampleValue(samples, "airlock_policy_reloads_total", {{"outcome", "applied"}}), 1);
  EXPECT_EQ(sampleValue(samples, "airlock_policy_reloads_total", {{"outcome", "refused"}}), 1);
  std::string revision = broker_->auditRecords({{"event", "broker.start"}}).at(0)["policy_rev"];
  EXPECT_EQ(sampleValue(samples, "airlock_policy_info", {{"revision", revision}}), 1);
  // Every call record carries its duration: the histogram saw each call once.
  size_t callRecords = countRecords(*broker_, {{"event", "call"}});
  EXPECT_EQ(callRecords, static_cast<size_t>(allowed + denied + 1 + refusedOpens + 1));
  EXPECT_EQ(sampleValue(samples, "airlock_call_duration_seconds_count", {{"unit", "probe"}}),
            callRecords);
  // The audit log's own counters are the file: every line and byte written.
  std::string log = readFile(broker_->auditPath());
  EXPECT_EQ(sampleValue(samples, "airlock_audit_records_total"),
            std::count(log.begin(), log.end(), '\n'));
  EXPECT_EQ(sampleValue(samples, "airlock_audit_written_bytes_total"), log.size());
  EXPECT_EQ(sampleValue(samples, "airlock_audit_sync_failures_total"), 0);
  EXPECT_GT(sampleValue(samples, "airlock_audit_sync_duration_seconds_count").value_or(0), 0);

  // Owner-only, like the host socket, and gone once airlockd stops.
  struct stat st;
  ASSERT_EQ(lstat(socket.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(broker_->stop(), 0) << broker_->log();
  EXPECT_FALSE(pathExists(socket));
}

TEST_F(MetricsTest, OnlyGetOfTheMetricsPathIsAnswered) {
  std::string socket = place_.file("metrics.sock");
  start(socket);
  EXPECT_EQ(httpGetUnix(socket, "/metrics?name[]=x").status, 200);
  EXPECT_EQ(httpGetUnix(socket, "/").status, 404);
  EXPECT_EQ(httpGetUnix(socket, "/metrics", "POST").status, 405);
  EXPECT_TRUE(broker_->connect().unit("probe").call("echo", "hi").ok());
}

// Waits (at most 30 s) for the server to close `fd`: true if it did (end of file).
bool closedByServer(int fd) {
  timeval wait{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
  char byte;
  return read(fd, &byte, 1) == 0;
}

TEST_F(MetricsTest, IdleConnectionsPastTheCapAreClosedAndCallsAndScrapesGoOn) {
  std::string socket = place_.file("metrics.sock");
  start(socket);
  // Eight connections that never send a request hold every slot; a ninth is closed at once.
  std::vector<int> idle;
  for (int i = 0; i < 8; ++i) idle.push_back(connectUnix(socket));
  int extra = connectUnix(socket);
  ASSERT_GE(extra, 0);
  EXPECT_TRUE(closedByServer(extra));
  close(extra);
  // Meanwhile the broker answers calls as ever.
  EXPECT_TRUE(broker_->connect().unit("probe").call("echo", "hi").ok());
  // A connection that sends no request is closed after the header timeout, freeing its slot.
  EXPECT_TRUE(closedByServer(idle[0]));
  for (int fd : idle) close(fd);
  HttpAnswer answer;
  for (int i = 0; i < 100 && answer.status != 200; ++i) {
    answer = httpGetUnix(socket);
    if (answer.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(answer.status, 200);
}

TEST_F(MetricsTest, TcpOnLoopbackServesTheSameMetrics) {
  start("127.0.0.1:0");
  int port = loggedPort(*broker_);
  ASSERT_GT(port, 0) << broker_->log();
  EXPECT_TRUE(broker_->connect().unit("probe").call("echo", "hi").ok());
  HttpAnswer answer = httpGetTcp(port);
  ASSERT_EQ(answer.status, 200) << broker_->log();
  auto samples = parseSamples(answer.body);
  EXPECT_EQ(sampleValue(samples, "airlock_calls_total",
                        {{"unit", "probe"}, {"method", "echo"}, {"decision", "allow"},
                         {"result", "ok"}}), 1) << answer.body;
}

TEST_F(MetricsTest, PromtoolFindsNoProblemInARealScrape) {
  const std::string promtool = "/usr/bin/promtool";
  ASSERT_TRUE(pathExists(promtool)) << promtool << " is missing: run scripts/install-deps "
                                    << "(Debian's prometheus package)";
  std::string socket = place_.file("metrics.sock");
  start(socket);
  {
    Client client = broker_->connect();
    EXPECT_TRUE(client.unit("probe").call("echo", "hi").ok());
    EXPECT_EQ(client.unit("probe").call("exit", "").errorKind(), CallErrorKind::DENIED);
    EXPECT_EQ(client.unit("probe").call("read", "/etc/passwd").errorKind(),
              CallErrorKind::WORKER_FAILED);
  }
  HttpAnswer answer = httpGetUnix(socket);
  ASSERT_EQ(answer.status, 200);
  place_.write("scrape.txt", answer.body);
  // promtool reads the exposition on stdin and prints each problem; any output is a problem.
  RunResult checked =
      runProgram({"/bin/sh", "-c", promtool + " check metrics < " + place_.file("scrape.txt")});
  EXPECT_EQ(checked.exitCode, 0) << checked.output << answer.body;
  EXPECT_EQ(checked.output, "") << answer.body;
}

TEST(MetricsPacing, RequestsMadeToWaitForTheirTurnAreCountedPerUnit) {
  TempDir place;
  ASSERT_EQ(mkdir(place.file("data").c_str(), 0755), 0);
  place.write("data/a.txt", "hello");
  std::string policy = PROBE_POLICY;
  // One request a second, one at once: of three reads in a row the second and third wait.
  policy.replace(policy.find("call_timeout_ms"), 0,
                 "max_requests_per_second = 1\nrequests_burst = 1\n");
  BrokerOptions options;
  options.extraArgs = withMetrics({}, place.file("metrics.sock"));
  BrokerProcess broker({{"probe.toml", policy}}, {{"data", place.file("data")}}, options);
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  Client client = broker.connect();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(client.unit("probe").call("read", place.file("data/a.txt")).ok());
  }
  auto samples = parseSamples(httpGetUnix(place.file("metrics.sock")).body);
  EXPECT_EQ(sampleValue(samples, "airlock_requests_paced_total", {{"unit", "probe"}}), 2);
  EXPECT_EQ(sampleValue(samples, "airlock_requests_total",
                        {{"operation", "fs.open"}, {"decision", "allow"}}), 3);
}

TEST(MetricsStartup, ATcpAddressThatIsNotLoopbackIsRefusedWithoutTheFlag) {
  TempDir dir;
  RunResult refused = runProgram({binDir() + "/airlockd", "--policies", dir.path(), "--socket",
                                  dir.file("s"), "--audit", dir.file("a"), "--key", dir.file("k"),
                                  "--client-keys", dir.path(), "--metrics", "0.0.0.0:9464"});
  EXPECT_EQ(refused.exitCode, 2) << refused.output;
  EXPECT_NE(refused.output.find("--metrics 0.0.0.0:9464 is not a loopback address"),
            std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("--metrics-allow-remote"), std::string::npos) << refused.output;
  EXPECT_FALSE(pathExists(dir.file("a")));  // refused before anything was opened
}

TEST(MetricsStartup, WithTheFlagANonLoopbackAddressServes) {
  BrokerOptions options;
  options.extraArgs = withMetrics({"--metrics-allow-remote"}, "0.0.0.0:0");
  TempDir place;
  ASSERT_EQ(mkdir(place.file("data").c_str(), 0755), 0);
  BrokerProcess broker({{"probe.toml", PROBE_POLICY}}, {{"data", place.file("data")}}, options);
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  int port = loggedPort(broker);
  ASSERT_GT(port, 0) << broker.log();
  EXPECT_EQ(httpGetTcp(port).status, 200);
}

}  // namespace
}  // namespace airlock::testing

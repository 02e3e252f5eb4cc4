// The demo's units (policies/thumbnailer.toml and extractor.toml, the examples' real sandboxed
// workers) called by a Python host (tests/integration/python/demo_host.py) and by the C++ host
// SDK, the same calls one after the other: every answer and refusal must read the same, and
// each Python refusal is the exception of its kind.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <string>
#include <vector>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/python_command.h"
#include "tests/integration/support/foreign_hosts.h"

namespace airlock::testing {
namespace {

struct DemoCall {
  const char* label;
  const char* unit;
  const char* method;
  std::string payload;
};

TEST(PythonDemoTest, APythonHostGetsTheSameAnswersAndRefusalsFromTheDemoUnitsAsTheCppHost) {
  TempDir work;
  for (auto dir : {"images", "inbox", "out", "canary"}) {
    ASSERT_EQ(mkdir(work.file(dir).c_str(), 0755), 0) << dir;
  }
  std::string images = work.file("images"), inbox = work.file("inbox"), out = work.file("out");
  auto pngs = runProgram({binDir() + "/thumbnailer-samples", images});
  ASSERT_EQ(pngs.exitCode, 0) << pngs.output;
  ASSERT_EQ(symlink("/etc/passwd", (images + "/evil.png").c_str()), 0);  // as scripts/demo plants
  auto archives = runProgram({binDir() + "/extractor-samples", inbox, work.file("canary")});
  ASSERT_EQ(archives.exitCode, 0) << archives.output;
  BrokerOptions options;
  options.clients = {"web"};
  BrokerProcess broker({{"thumbnailer.toml", shippedPolicy("thumbnailer.toml")},
                        {"extractor.toml", shippedPolicy("extractor.toml")}},
                       {{"images_dir", images}, {"inbox_dir", inbox}, {"output_dir", out}},
                       options);
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();

  // The same list as demo_host.py's, in the same order.
  std::vector<DemoCall> calls = {
      {"thumbnail", "thumbnailer", "thumbnail", images + "/sunset.png"},
      {"leave-images", "thumbnailer", "thumbnail", images + "/../../etc/passwd"},
      {"planted-symlink", "thumbnailer", "thumbnail", images + "/evil.png"},
      {"corrupt", "thumbnailer", "thumbnail", images + "/truncated.png"},
      {"open-directly", "thumbnailer", "open-directly", "/etc/passwd"},
      {"not-granted", "thumbnailer", "resize", images + "/sunset.png"},
      {"dotdot", "extractor", "extract", inbox + "/dotdot.tar\n" + out},
      {"absolute", "extractor", "extract", inbox + "/absolute.tar\n" + out},
      {"no-unit", "nope", "thumbnail", ""},
  };
  std::string fromCpp;
  {
    auto client = broker.connect("web");
    for (auto& call : calls) {
      auto outcome = client.unit(call.unit).call(call.method, call.payload);
      fromCpp += std::string(call.label) + ": " +
                 (outcome.ok() ? "ok" : callErrorKindName(outcome.errorKind())) +
                 " rule=" + outcome.ruleId() + " " + outcome.payload() + "\n";
    }
  }
  std::vector<std::string> command = pythonCommand();
  command.insert(command.end(),
                 {std::string(AIRLOCK_SOURCE_DIR) + "/tests/integration/python/demo_host.py",
                  broker.socket(), broker.clientKey("web"), broker.brokerPublicKey(), images,
                  inbox, out});
  auto fromPython = runProgram(command, 120);
  ASSERT_EQ(fromPython.exitCode, 0) << fromPython.output;
  EXPECT_EQ(fromPython.output,
            fromCpp + "classes: WorkerFailed,WorkerFailed,WorkerFailed,Denied,NoSuchUnit\n");
  // Not vacuous: the calls answered and refused as the demo shows.
  EXPECT_NE(fromCpp.find("thumbnail: ok rule= "), std::string::npos) << fromCpp;
  EXPECT_NE(fromCpp.find("not-granted: denied rule=default-deny"), std::string::npos) << fromCpp;
  EXPECT_NE(fromCpp.find("2 entries: 0 extracted, 2 refused, 0 failed"),
            std::string::npos)
      << fromCpp;
  // Each refused open was decided and recorded twice: once per host.
  auto refused = broker.auditRecords({{"event", "fs.open"}, {"decision", "deny"}});
  EXPECT_EQ(refused.size() % 2, 0u);
  EXPECT_GE(refused.size(), 8u) << broker.log();
}

}  // namespace
}  // namespace airlock::testing

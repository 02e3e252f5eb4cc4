// A Python host on the airlock package (sdk/python/airlock: ctypes over libairlock) against a
// real airlockd and real sandboxed workers: the same answers, the same refusals as exceptions
// (airlock.Denied, UnitCrashed, TimedOut, ...) and the same audit records as the C++ SDK.

#include <gtest/gtest.h>

#include <airlock/tests/typed_probe.capnp.h>

#include <string>
#include <vector>

#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/python_command.h"
#include "tests/integration/support/foreign_hosts.h"

namespace airlock::testing {
namespace {

TEST(PythonHostTest, CallsAndRefusalsArriveAsValuesAndExceptionsAndAreRecorded) {
  BrokerProcess broker(foreignHostPolicies());
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  broker.dir().write("hosts-own.txt", "handed by descriptor");
  std::vector<std::string> command = pythonCommand();
  command.insert(command.end(),
                 {std::string(AIRLOCK_SOURCE_DIR) + "/tests/integration/python/python_host.py",
                  broker.socket(), broker.clientKey(), broker.brokerPublicKey(),
                  hexTypeId(capnp::typeId<rpc::TypedProbe>()),
                  hexTypeId(capnp::typeId<rpc::TypedBase>()), broker.dir().file(GRANTED_NAME),
                  broker.dir().file("hosts-own.txt")});
  auto ran = runProgram(command, 120);
  ASSERT_EQ(ran.exitCode, 0) << ran.output;
  expectLinesInOrder(ran.output, {
      "connect-unpinned: ConnectFailed True\n",
      "echo: ok hello from Python\n",
      "echo-str: ok text\n",
      "denied: Denied kind=denied rule=default-deny\n",
      "crash: UnitCrashed kind=unit crashed rule=\n",
      "after-crash: ok still served\n",
      "timeout: TimedOut kind=timed out rule=\n",
      "no-unit: NoSuchUnit kind=no such unit rule=default-deny\n",
      "other-thread: WrongThread\n",
      "run: status=0 signal=0 stdout=piped through cat cut=False\n",
      "denied-is-error: True\n",
      "granted-fd: ok handed by descriptor\n",
      "granted-wider: BadRequest kind=bad request rule=call.grant_descriptor\n",
      "typed-ping: ok True True\n",
      "typed-denied: Denied kind=denied rule=\n",
      "typed-malformed: InvalidArgument kind=invalid argument rule=\n",
      "done\n",
  });

  int crashed = 0;
  for (const auto& record : broker.auditRecords({{"event", "call"}, {"unit", "probe"}})) {
    crashed += record["result"].get<std::string>().rfind("unit crashed", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(crashed, 1);
  expectProbeReadDeniedAndTheLogSound(broker);
}

}  // namespace
}  // namespace airlock::testing

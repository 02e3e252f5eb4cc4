// libairlock's C ABI (sdk/c/airlock.h) from a host written in C (c_abi/c_abi_host.c) against a
// real airlockd and real sandboxed workers: the same answers and refusals as the C++ SDK, each
// recorded in the audit log, and no exception or C++ type crossing into C.

#include <gtest/gtest.h>

#include <airlock/tests/typed_probe.capnp.h>

#include <string>

#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/foreign_hosts.h"

namespace airlock::testing {
namespace {

TEST(CAbiTest, AHostInCCallsRunsAndCallsTypedWithTheSameAnswersAndRefusalsAsTheCppSdk) {
  BrokerProcess broker(foreignHostPolicies());
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  broker.dir().write("hosts-own.txt", "handed by descriptor");
  auto ran = runProgram({binDir() + "/test-c_abi_host", broker.socket(), broker.clientKey(),
                         broker.brokerPublicKey(), hexTypeId(capnp::typeId<rpc::TypedProbe>()),
                         hexTypeId(capnp::typeId<rpc::TypedBase>()),
                         broker.dir().file(GRANTED_NAME), broker.dir().file("hosts-own.txt")},
                        120);
  ASSERT_EQ(ran.exitCode, 0) << ran.output;
  expectLinesInOrder(ran.output, {
      "abi: 0\n",
      "connect-unpinned: connect failed client=null message=set\n",
      "connect: ok error=none\n",
      "connect-second: connect failed client=null\n",
      "echo: ok hello from C\n",
      "denied: denied rule=default-deny\n",
      "crash: unit crashed rule=\n",
      "after-crash: ok still served\n",
      "timeout: timed out rule=\n",
      "no-unit: no such unit rule=default-deny\n",
      "null-unit: invalid argument rule=\n",
      "null-payload: invalid argument rule=\n",
      "null-reply-out: invalid argument\n",
      "other-thread: wrong thread rule=\n",
      "own-thread: ok mine\n",
      "run: ok exit=0 signal=0 cut=0 refused= stdout=piped through cat stderr-bytes=0\n",
      "granted-fd: ok handed by descriptor\n",
      "grant-no-modes: invalid argument rule=\n",
      "typed-ping: ok pong\n",
      "typed-echo: ok typed from C\n",
      "typed-denied: denied\n",
      "typed-malformed: invalid argument\n",
      "typed-garbage: invalid argument\n",
      "names: ok, denied, unit crashed, timed out, bad request, unit unavailable, no such method, "
      "worker failed, no such unit, broker error, disconnected, busy, connect failed, invalid "
      "argument, wrong thread, library error, no answer, unknown status,\n",
      "done\n",
  });

  // Each refusal is airlockd's, recorded, not the library's invention.
  auto typedDenied = broker.auditRecords({{"event", "call"}, {"unit", "typed"}, {"decision", "deny"}});
  ASSERT_EQ(typedDenied.size(), 1u);
  EXPECT_EQ(typedDenied[0]["args"]["method"], "notGranted");
  auto runs = broker.auditRecords({{"event", "call"}, {"unit", "cat"}});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["decision"], "allow");
  EXPECT_EQ(broker.auditRecords({{"event", "call"}, {"unit", "nonexistent"}}).size(), 1u);
  // The library refused the bad arguments and the other thread's call itself, before sending:
  // airlockd saw echo, read, crash, echo, hang and echo, nothing more.
  EXPECT_EQ(broker.auditRecords({{"event", "call"}, {"unit", "probe"}}).size(), 6u);
  expectProbeReadDeniedAndTheLogSound(broker);
}

}  // namespace
}  // namespace airlock::testing

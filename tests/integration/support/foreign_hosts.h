#pragma once
// What the tests of hosts written in other languages over libairlock (sdk/c/airlock.h) share:
// the units they call and the checks of what such a host printed and airlockd recorded.

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>

#include "tests/integration/support/broker_process.h"

namespace airlock::testing {

// A policy file airlock ships (policies/NAME), with the schema path of its interface made
// absolute for a test's policy directory.
inline std::string shippedPolicy(const std::string& name) {
  std::string text = readFile(std::string(AIRLOCK_SOURCE_DIR) + "/policies/" + name);
  EXPECT_FALSE(text.empty()) << name;
  std::string relative = "\"interfaces/";
  size_t at = text.find(relative);
  if (at != std::string::npos) {
    text.replace(at, relative.size(),
                 "\"" + std::string(AIRLOCK_SOURCE_DIR) + "/policies/interfaces/");
  }
  return text;
}

// The probe worker's unit (programs/probe_worker.cc) whose only rule is `callRule` (TOML).
inline std::string probeUnitWith(const std::string& callRule) {
  return "[unit]\nname = \"probe\"\nworker = \"test-probe_worker\"\ncall_timeout_ms = 60000\n" +
         callRule;
}

// The units the hosts in other languages call (c_abi/c_abi_host.c, python/python_host.py):
// "probe" (programs/probe_worker.cc) with echo, crash and hang allowed to the test client and
// nothing else, "typed" (programs/typed_worker.cc) with ping and echo, and "cat", a program unit
// running /usr/bin/cat, and "granted" (the probe worker again), whose `read` reaches only a
// descriptor the call hands it under a name in the broker's directory (GRANTED_NAME).
inline constexpr char GRANTED_NAME[] = "handed.txt";
inline std::map<std::string, std::string> foreignHostPolicies() {
  std::string probe = probeUnitWith(R"(
[[rule]]
id = "tester-calls-probe"
allow = "call"
caller = ["tester"]
method = ["echo", "crash", "hang"]
)");
  std::string typed = std::string(R"(
[unit]
name = "typed"
worker = "test-typed_worker"
call_timeout_ms = 60000
interface = ")") + AIRLOCK_SOURCE_DIR + R"(/tests/integration/support/typed_probe.capnp:TypedProbe"

[[rule]]
id = "tester-calls-typed"
allow = "call"
caller = ["tester"]
method = ["ping", "echo"]
)";
  std::string cat = R"(
[unit]
name = "cat"
program = "/usr/bin/cat"
call_timeout_ms = 20000

[[rule]]
id = "tester-runs-cat"
allow = "call"
caller = ["tester"]
method = ["run"]
)";
  std::string granted = R"(
[unit]
name = "granted"
worker = "test-probe_worker"
worker_reuse = "never"
call_timeout_ms = 60000

[[rule]]
id = "tester-calls-granted"
allow = "call"
caller = ["tester"]
method = ["read"]

[[rule]]
id = "tester-hands-files"
allow = "grant"
caller = ["tester"]
path = "${tmp}/*"
mode = ["read"]
descriptors = ["regular"]

[[rule]]
id = "only-what-is-handed"
allow = "fs.open"
path = "${tmp}/*"
mode = ["read"]
granted_only = true
)";
  return {{"probe.toml", probe}, {"typed.toml", typed}, {"cat.toml", cat},
          {"granted.toml", granted}};
}

// A Cap'n Proto type id as the hosts take it on their command lines: "0x..." hex.
inline std::string hexTypeId(uint64_t id) {
  std::ostringstream text;
  text << "0x" << std::hex << id;
  return text.str();
}

// Every line of `expected` (each ending in "\n") is in `output`, in this order; other lines,
// such as the host's stderr, may come between them.
inline void expectLinesInOrder(const std::string& output,
                               std::initializer_list<const char*> expected) {
  size_t at = 0;
  for (const char* line : expected) {
    size_t found = output.find(line, at);
    ASSERT_NE(found, std::string::npos) << "missing, in order: " << line << "in:\n" << output;
    at = found + strlen(line);
  }
}

// The host's call of probe.read was airlockd's refusal, recorded once under default-deny, and
// the log of everything it did verifies once airlockd has stopped (which seals it).
inline void expectProbeReadDeniedAndTheLogSound(BrokerProcess& broker) {
  auto denied = broker.auditRecords({{"event", "call"}, {"unit", "probe"}, {"decision", "deny"}});
  ASSERT_EQ(denied.size(), 1u) << broker.log();
  EXPECT_EQ(denied[0]["rule"], "default-deny");
  EXPECT_EQ(denied[0]["args"]["method"], "read");
  ASSERT_EQ(broker.stop(), 0) << broker.log();
  auto verified = broker.verifyAuditLog();
  EXPECT_EQ(verified.exitCode, 0) << verified.output;
}

}  // namespace airlock::testing

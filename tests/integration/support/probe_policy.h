#pragma once
// The probe worker's unit (tests/integration/programs/probe_worker.cc) as the capability tests
// start it: the test client may call every method, a long call timeout, and `rules` appended.

#include <string>

namespace airlock::testing {

inline std::string probeUnitPolicy(const std::string& rules) {
  return R"(
[unit]
name = "probe"
worker = "test-probe_worker"
call_timeout_ms = 60000

[[rule]]
id = "me-calls-probe"
allow = "call"
caller = ["tester"]
method = ["*"]
)" + rules;
}

}  // namespace airlock::testing

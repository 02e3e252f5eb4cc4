#pragma once
// Allowed and denied requests through a real airlockd, for the tests of the audit tools that
// read its log: reads inside and outside a granted directory, a worker crash, and calls by a
// client the policy lets call only one method.

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/support/broker_process.h"

namespace airlock::testing {

// A "probe" unit: rules data-read (fs.open of ${tmp}/data/**, read), tester-calls-probe (every
// method) and intruder-may-echo (client "intruder", method echo only).
std::unique_ptr<BrokerProcess> startSampleBroker(std::vector<std::string> extraArgs = {});

// As client "tester": 3 reads of data/a.txt (allowed), a read of each of `deniedPaths` (denied:
// outside data/), a crash; then as "intruder": an echo (allowed) and 2 reads (denied calls).
// Then stops the broker cleanly. Fails the test (gtest) if any call ends otherwise.
void driveSampleTraffic(BrokerProcess& broker, const std::vector<std::string>& deniedPaths);

}  // namespace airlock::testing

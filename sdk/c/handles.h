#pragma once
// What the opaque handles of airlock.h hold. Internal to libairlock: never installed.

#include <string>
#include <thread>

#include "sdk/c/airlock.h"
#include "sdk/host/client.h"

struct airlock_client {
  airlock::Client client;
  std::thread::id owner;  // the thread that connected: the only one that may use or free it
};

struct airlock_reply {
  int status = AIRLOCK_OK;
  std::string data;     // the answer's bytes when status is AIRLOCK_OK
  std::string message;  // why not, otherwise
  std::string rule;
  std::string described;  // airlock_reply_describe
  // airlock_run's program exit
  int exitStatus = 0;
  int signal = 0;
  std::string out, err;
  bool outputCut = false;
  std::string refusedSyscall;
};

namespace airlock::c_abi {

// A reply for a failure the library itself found (not airlockd's answer).
airlock_reply* newFailure(int status, std::string message);
// Fills in `reply` from `outcome` (status, payload or message and rule, description).
void fill(airlock_reply& reply, const CallOutcome& outcome);

}  // namespace airlock::c_abi

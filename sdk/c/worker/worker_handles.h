#pragma once
// What the opaque handles of airlock_worker.h hold, and what the worker functions share.
// Internal to the worker C ABI: never installed.

#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "sdk/c/airlock_worker.h"
#include "sdk/worker/worker.h"

struct airlock_worker {
  airlock::Worker worker;
};

struct airlock_worker_call {
  airlock::Call& call;
  std::optional<airlock::Reply> reply;  // the last answer the method gave
  std::unique_ptr<airlock::PulledCall> pulled = nullptr;  // a call of airlock_worker_next
};

namespace airlock::c_abi {

// A guarded() failure handler that hands `message` to the C caller as a new string in
// *messageOut (when it is not NULL; NULL if out of memory).
inline auto messageInto(char** messageOut) {
  return [messageOut](int, const std::string& message) {
    if (messageOut != nullptr) *messageOut = strdup(message.c_str());
  };
}

// An opened file or connected socket handed to the C caller: AIRLOCK_OK with the fd in *fdOut
// (the caller's now, to close), or AIRLOCK_DENIED / AIRLOCK_WORKER_FAILED with the broker's
// message in *messageOut.
inline int handOver(OpenedFile& answer, int* fdOut, char** messageOut) {
  if (answer.ok()) {
    *fdOut = answer.takeFd().release();  // ownership passes to the C caller here
    return AIRLOCK_OK;
  }
  messageInto(messageOut)(0, answer.message());
  return answer.wasDenied() ? AIRLOCK_DENIED : AIRLOCK_WORKER_FAILED;
}

}  // namespace airlock::c_abi

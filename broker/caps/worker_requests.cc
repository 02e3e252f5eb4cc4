#include "broker/caps/worker_requests.h"

#include <kj/debug.h>

namespace airlock::broker {

const WorkerRequest* findWorkerRequest(uint64_t interfaceId, uint16_t methodId) {
  // Fourteen rows: a scan is cheaper than any index, and runs once per request.
  for (const WorkerRequest* row : WORKER_REQUESTS) {
    if (row->interfaceId == interfaceId && row->methodId == methodId) return row;
  }
  return nullptr;
}

const WorkerRequest& fsPathRequest(policy::Operation op) {
  for (const WorkerRequest* row : WORKER_REQUESTS) {
    if (row->interfaceId == requests::FS && row->decidedBy == op) return *row;
  }
  KJ_FAIL_REQUIRE("no Fs request is decided by this operation", policy::operationName(op));
}

}  // namespace airlock::broker

#pragma once
// What the host-facing servers need to route a call: the running units, the services every call
// uses, and the call-id counter. Built by airlockd's main(); outlives every connection.

#include <kj/async-io.h>
#include <kj/memory.h>

#include <map>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "broker/caps/fs_roots.h"
#include "broker/policy/policy.h"
#include "broker/supervisor/unit_pool.h"

namespace airlock::broker {

struct Routing {
  const std::vector<policy::UnitPolicy>& units;
  std::map<std::string, kj::Own<UnitPool>>& pools;
  audit::AuditLog& audit;
  const FsRoots& roots;
  kj::Timer& timer;
  uint64_t nextCallId = 1;

  kj::Maybe<UnitPool&> pool(const std::string& unit);
  std::string newCallId();          // "c-<n>", unique for this broker run
  bool admitsCaller(uid_t uid) const;  // some unit has a call rule naming this uid
};

}  // namespace airlock::broker

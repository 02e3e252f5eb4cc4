#pragma once
// What the host-facing servers need to route a call: the running units, the services every call
// uses, and the call-id counter. Built by airlockd's main(); outlives every connection.

#include <kj/async-io.h>
#include <kj/memory.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/signing_key.h"
#include "broker/caps/fs_roots.h"
#include "broker/caps/log.h"
#include "broker/caps/secret_hash.h"
#include "broker/caps/secret_store.h"
#include "broker/host/auth_backoff.h"
#include "broker/host/client_keys.h"
#include "broker/host/seen_nonces.h"
#include "broker/policy/policy.h"
#include "broker/supervisor/unit_pool.h"

namespace airlock::broker {

// What the host handshake (gateway.cc) needs. The broker key is the one that signs audit
// checkpoints too: clients pin its public half (broker.pub).
struct HostAuth {
  const ClientKeys& clients;
  const audit::SigningKey& brokerKey;
  AuthBackoff& backoff;
  SeenNonces& nonces;
};

// Whether any unit's allow call rules admit an authenticated caller.
struct Admission {
  enum Kind { ADMITTED, NOT_NAMED, WRONG_UID } kind = NOT_NAMED;
  std::string ruleId;  // ADMITTED: the first admitting rule
};

struct Routing {
  const std::vector<policy::UnitPolicy>& units;
  std::map<std::string, kj::Own<UnitPool>>& pools;
  audit::AuditLog& audit;
  const FsRoots& roots;
  kj::Timer& timer;
  HostAuth& auth;
  std::shared_ptr<const std::string> policyRev;  // of `units`; stamped on every decision record
  const SecretStore& secrets;
  const SecretHasher& secretHasher;
  std::map<std::string, kj::Own<UnitLog>>& logs;  // one per unit, by unit name
  uint64_t nextCallId = 1;

  // Shutdown (SIGTERM): once draining, new calls are refused as unit unavailable while the calls
  // already dispatched finish; main() waits for callsInFlight to reach 0 (or a deadline).
  bool draining = false;
  uint64_t callsInFlight = 0;

  kj::Maybe<UnitPool&> pool(const std::string& unit);
  std::string newCallId();  // "c-<n>", unique for this broker run
  // ADMITTED if some allow call rule names the caller (and its uid, where the rule lists uids);
  // WRONG_UID if rules name the caller but none for this uid.
  Admission admits(const policy::Caller& caller) const;
};

}  // namespace airlock::broker

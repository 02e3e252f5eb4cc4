#pragma once
// What the host-facing servers need to route a call: the policy set in force, the running units,
// the services every call uses, and the call-id counter. Built by airlockd's main(); outlives
// every connection. A reload (broker/reload/) replaces `policy` and adjusts `pools` between two
// events of the loop, so a call sees either the old set or the new one, never a mix.

#include <kj/async-io.h>
#include <kj/memory.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/signing_key.h"
#include "broker/caps/fs_roots.h"
#include "broker/caps/log.h"
#include "broker/caps/net_dialer.h"
#include "broker/caps/request_pacer.h"
#include "broker/caps/secret_hash.h"
#include "broker/caps/secret_store.h"
#include "broker/policy/model/policy.h"
#include "broker/state/calls_cut_off.h"
#include "broker/state/flow_limit.h"
#include "broker/state/limit_records.h"
#include "broker/state/policy_set.h"
#include "broker/supervisor/unit_pool.h"

namespace airlock::broker {

class AuthBackoff;  // broker/host/auth_backoff.h
class Reloader;     // broker/reload/reloader.h
namespace resources { class ResourceGroups; }  // broker/resources/resource_groups.h
class SeenNonces;   // broker/host/seen_nonces.h

// What the host handshake (gateway.cc) needs besides the client keys (which are part of the
// policy set, so a reload revokes). The broker key is the one that signs audit checkpoints too:
// clients pin its public half (broker.pub).
struct HostAuth {
  const audit::SigningKey& brokerKey;
  AuthBackoff& backoff;
  SeenNonces& nonces;
};

// What audit records name as the rule when [broker] admins decided (admission, admin requests).
inline constexpr std::string_view ADMINS_RULE_ID = "broker.admins";

// Whether any unit's allow call rules, or [broker] admins, admit an authenticated caller.
struct Admission {
  enum Kind { ADMITTED, NOT_NAMED, WRONG_UID } kind = NOT_NAMED;
  std::string ruleId;  // ADMITTED: the first admitting rule
};

// Logs a background task's failure (a bug: the tasks answer every fault as a value).
struct TaskErrorLog final : public kj::TaskSet::ErrorHandler {
  void taskFailed(kj::Exception&& exception) override;
};

struct Routing {
  std::shared_ptr<const PolicySet> policy;  // in force; a call holds its own reference
  std::map<std::string, std::shared_ptr<UnitPool>>& pools;
  // One per unit of `policy`. Shared: a call holds its unit's pool until it is answered, so a
  // reload that replaces or removes the pool does not pull it from under the call.
  audit::AuditLog& audit;
  kj::Timer& timer;
  HostAuth& auth;
  const SecretStore& secrets;
  const SecretHasher& secretHasher;
  std::map<std::string, kj::Own<UnitLog>>& logs;
  // One per unit name ever loaded: a reload adds, never removes (a call's log capability may
  // outlive its unit).
  NetDialer& net;  // name lookups and connects for net.connect
  std::map<std::string, UnitFlow> flows{};
  // Calls in flight and rate tokens per unit name, made on a unit's first call; kept across
  // reloads, so a restarted pool does not reset what a flood has used.
  std::map<std::string, kj::Own<RequestPacer>> pacers{};
  // The pace of each unit's brokered requests, by unit name, made on its first call's
  // capabilities; kept across reloads like `flows`.
  uint64_t nextCallId = 1;
  LimitRecords limitRecords{audit, timer};  // refusals a peer can cause at any rate

  // A connection that has not authenticated this long after it was accepted is closed (and the
  // attempt audited): an unanswered handshake must not hold a connection and its uid's
  // in-flight slot for ever. Longer than the longest back-off (auth_backoff.h), so a client
  // that is only slowed down still gets its answer.
  kj::Duration handshakeTimeout = 30 * kj::SECONDS;

  // Shutdown (SIGTERM): once draining, new calls are refused as unit unavailable while the calls
  // already dispatched finish; main() waits for callsInFlight to reach 0 (or a deadline).
  bool draining = false;
  uint64_t callsInFlight = 0;
  CallsCutOff callsCutOff{};  // past the drain deadline: answers every call still in flight

  Reloader* reloader = nullptr;  // for an admin's reload request; set by main()
  resources::ResourceGroups* resourceGroups = nullptr;
  // The units' cgroups (broker/resources/); set by main(), null where none can be used.
  // For an admin's drain request: starts the same drain-then-stop as SIGTERM, with `why` as the
  // broker.stop record's reason. Set by main() while it serves.
  std::function<void(std::string why)> requestStop = nullptr;

  std::shared_ptr<UnitPool> pool(const std::string& unit);  // null: no such unit
  std::string newCallId();  // "c-<n>", unique for this broker run
  // ADMITTED if some allow call rule names the caller (and its uid, where the rule lists uids)
  // or [broker] admins does; WRONG_UID if rules name the caller but none for this uid.
  Admission admits(const policy::Caller& caller) const;

  // Nested invokes (calls/invoke.h) run here rather than under the RPC call of the worker that
  // asked: a caller worker that dies mid-invoke must not cancel the callee's call, its two
  // records or its in-flight count. Last members: destroyed first, while what the tasks use
  // (the counters above, the audit log, the pools) still exists.
  TaskErrorLog invokeTaskErrors{};
  kj::TaskSet invokeTasks{invokeTaskErrors};
};

}  // namespace airlock::broker

#pragma once
// What every capability handed to a worker for one host call knows about that call, and the
// switch that expires them all when the call ends. Broker-side, event-loop thread only.

#include <sys/types.h>

#include <kj/refcount.h>

#include <string>

#include "audit/audit_log.h"
#include "broker/caps/fs_roots.h"
#include "broker/caps/secret_hash.h"
#include "broker/caps/secret_store.h"
#include "broker/policy/policy.h"

namespace airlock::broker {

class CallScope final : public kj::Refcounted {
 public:
  CallScope(const policy::UnitPolicy& unit, pid_t workerPid, std::string caller,
            std::string callId, audit::AuditLog& audit, const FsRoots& roots,
            const SecretStore& secrets, const SecretHasher& secretHasher)
      : unit(unit), workerPid(workerPid), caller(std::move(caller)), callId(std::move(callId)),
        audit(audit), roots(roots), secrets(secrets), secretHasher(secretHasher) {}

  const policy::UnitPolicy& unit;
  const pid_t workerPid;
  const std::string caller;
  const std::string callId;
  audit::AuditLog& audit;
  const FsRoots& roots;
  const SecretStore& secrets;
  const SecretHasher& secretHasher;

  bool expired() const { return expired_; }
  void expire() { expired_ = true; }  // the call is over: every capability of it now refuses

  // A record pre-filled with who and which call.
  audit::AuditRecord record(std::string event) const;

 private:
  bool expired_ = false;
};

}  // namespace airlock::broker

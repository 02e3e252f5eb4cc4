#pragma once
// What every capability handed to a worker for one host call knows about that call, and the
// switch that expires them all when the call ends. Broker-side, event-loop thread only.

#include <sys/types.h>

#include <kj/refcount.h>

#include <memory>

#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "broker/caps/fs_roots.h"
#include "broker/caps/held_fds.h"
#include "broker/caps/net_dialer.h"
#include "broker/caps/secret_hash.h"
#include "broker/caps/secret_store.h"
#include "broker/policy/decide/decide.h"
#include "broker/policy/model/call_grant.h"
#include "broker/policy/model/policy.h"

namespace airlock::broker {

class CallScope final : public kj::Refcounted {
 public:
  // `unitPolicy` keeps the policy set the call started under alive (and `roots`, which belongs to
  // it) for as long as any capability of the call exists, even past a reload.
  CallScope(std::shared_ptr<const policy::UnitPolicy> unitPolicy, pid_t workerPid,
            std::string caller, std::string callId, audit::AuditLog& audit, const FsRoots& roots,
            const SecretStore& secrets, const SecretHasher& secretHasher, NetDialer& net,
            kj::Own<HeldFds> heldFds, bool landlocked, std::vector<policy::CallGrant> grants = {})
      : unitPolicy(std::move(unitPolicy)), unit(*this->unitPolicy), workerPid(workerPid),
        caller(std::move(caller)), callId(std::move(callId)), audit(audit), roots(roots),
        secrets(secrets), secretHasher(secretHasher), net(net), heldFds(kj::mv(heldFds)),
        landlocked(landlocked), grants(std::move(grants)) {}

  const std::shared_ptr<const policy::UnitPolicy> unitPolicy;
  const policy::UnitPolicy& unit;
  const pid_t workerPid;
  const std::string caller;
  const std::string callId;
  audit::AuditLog& audit;
  const FsRoots& roots;
  const SecretStore& secrets;
  const SecretHasher& secretHasher;
  NetDialer& net;
  kj::Own<HeldFds> heldFds;  // the serving worker's: every File of the call counts against it
  const bool landlocked;
  // Whether the serving worker runs under Landlock. Without it (landlock = "best-effort" on a
  // kernel without Landlock) no directory is handed to it: openat(2) through a directory of the
  // host's tree would reach whatever lies beneath it, past every rule (fs.cc).
  const std::vector<policy::CallGrant> grants;
  // What the call's caller handed it (call_grant.h), each with the grant rule that admitted it
  // (borrowed from `unitPolicy`'s set): fs.open decides `granted_only` rules by them. Once the
  // call has ended no capability of it reaches the decision (expire()).

  bool expired() const { return expired_; }
  void expire() { expired_ = true; }  // the call is over: every capability of it now refuses

  // A record pre-filled with who and which call.
  audit::AuditRecord record(std::string event) const;

  // The decision for a request on one of this call's capabilities: `decide()` while the call
  // lasts, a default-deny once it has ended. Only for a request that may outlive its call
  // part-way (net.connect, across its name resolution): at entry the membrane every worker
  // capability passes (request_pacer.h) already refuses requests on an ended call.
  template <typename Decide>
  policy::Decision decideUnlessExpired(Decide&& decide) const {
    return expired_ ? expiredDecision() : decide();
  }

 private:
  static policy::Decision expiredDecision();

  bool expired_ = false;
};

// Sets the record's decision, rule and reason from `decision`.
void recordDecision(audit::AuditRecord& record, const policy::Decision& decision);

// Record before acting: a copy of `record` with `decision`, as event `<event>.admitted`
// ("call.admitted", "fs.mkdir.admitted", "net.connect.admitted"), written before the broker
// changes anything outside itself for the request: a worker handed a call, a file made, renamed,
// removed, created, written or truncated, a socket connected. False if the log refused it: the
// act must then not happen, and the requester is answered NOT_RECORDED (or an internal error).
// The request's own record, with the outcome, follows under the same call id.
[[nodiscard]] bool recordAdmitted(audit::AuditLog& audit, const audit::AuditRecord& record,
                                  const policy::Decision& decision);
inline constexpr char ADMITTED_EVENT_SUFFIX[] = ".admitted";
inline constexpr char NOT_RECORDED[] =
    "not done: the audit log refused the record that would allow it";

// What a capability answers when it refuses: the audit record could not be written (nothing may
// happen unrecorded), or the decision denies. Null when the request goes ahead.
kj::Maybe<std::string> refusalAnswer(bool audited, const policy::Decision& decision);

}  // namespace airlock::broker

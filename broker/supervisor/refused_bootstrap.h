#pragma once
// What a worker gets if it asks its channel for the broker's bootstrap capability: a broken
// capability, and one audit record. The broker exports no bootstrap (capnp/worker.capnp): a worker
// reaches broker capabilities only through those handed to it with a call. A worker that asks
// anyway is not speaking the SDK's protocol, so the first ask is recorded as an `unknown.method`
// refusal (capability "bootstrap"); later asks are refused unrecorded, so a worker cannot flood
// the log this way. Event-loop thread only.

#include <capnp/rpc-twoparty.h>
#include <sys/types.h>

#include <string>

#include "audit/audit_log.h"

namespace airlock::broker {

class RefusedBootstrap final : public capnp::BootstrapFactory<capnp::rpc::twoparty::VatId> {
 public:
  // Borrows `audit` (main() keeps it for as long as airlockd runs).
  RefusedBootstrap(audit::AuditLog& audit, std::string unit, pid_t workerPid)
      : audit_(audit), unit_(std::move(unit)), workerPid_(workerPid) {}

  capnp::Capability::Client createFor(capnp::rpc::twoparty::VatId::Reader clientId) override;

 private:
  audit::AuditLog& audit_;
  const std::string unit_;
  const pid_t workerPid_;
  bool recorded_ = false;
};

}  // namespace airlock::broker

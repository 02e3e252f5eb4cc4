#pragma once
// secrets.* for workers: the broker-side `Secrets` capability. Handed to a worker only with a
// call, and only if its unit's policy has a secrets.get allow rule (UnitPolicy::allowsAny).

#include <kj/refcount.h>

#include <airlock/capnp/worker.capnp.h>

#include "broker/caps/call_scope.h"

namespace airlock::broker {


class SecretsServer final : public rpc::Secrets::Server {
 public:
  explicit SecretsServer(kj::Own<CallScope> scope) : scope_(kj::mv(scope)) {}

  kj::Promise<void> get(GetContext context) override;
  // receive -> decide -> read from the store -> audit (name and keyed hash, never the value) ->
  // reply. The broker's copy of the value is zeroed when the handler returns. A failed audit
  // append turns the answer into a denial.

 private:
  kj::Own<CallScope> scope_;
};

}  // namespace airlock::broker

#pragma once
// fs.* for workers: the broker-side `Fs` capability. Handed to a worker only with a call, and
// only if its unit's policy has an fs.open allow rule (UnitPolicy::allowsAny).

#include <kj/refcount.h>

#include <airlock/capnp/worker.capnp.h>

#include "broker/caps/call_scope.h"

namespace airlock::broker {


class FsServer final : public rpc::Fs::Server {
 public:
  explicit FsServer(kj::Own<CallScope> scope) : scope_(kj::mv(scope)) {}

  kj::Promise<void> open(OpenContext context) override;
  // receive -> decide -> act (openat2 beneath the rule's root) -> audit -> reply. A failed audit
  // append turns the answer into a denial and the fd is closed unseen.

 private:
  kj::Own<CallScope> scope_;
};

}  // namespace airlock::broker

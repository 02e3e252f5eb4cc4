#pragma once
// net.connect for workers: the broker-side `Net` capability. Handed to a worker only with a call,
// and only if its unit's policy has a net.connect allow rule (UnitPolicy::allowsAny).

#include <kj/refcount.h>

#include <airlock/capnp/worker.capnp.h>

#include "broker/caps/call_scope.h"

namespace airlock::broker {

class NetServer final : public rpc::Net::Server {
 public:
  explicit NetServer(kj::Own<CallScope> scope) : scope_(kj::mv(scope)) {}

  kj::Promise<void> connect(ConnectContext context) override;
  // receive -> decide on the name (no lookup when no allow rule could match) -> resolve off the
  // event loop -> decide each address -> connect to the allowed ones in order until one answers
  // -> audit -> reply with the connected socket. A name that resolves only to refused addresses
  // is denied by the rule that refused the first of them.

  kj::Promise<void> connectUnix(ConnectUnixContext context) override;
  // receive -> decide on the path -> open the socket beneath the rule's root (no symlinks) ->
  // connect through /proc/self/fd/N of that descriptor -> audit -> reply.

 private:
  kj::Own<CallScope> scope_;
};

}  // namespace airlock::broker

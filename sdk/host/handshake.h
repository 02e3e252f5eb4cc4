#pragma once
// The client side of airlockd's host handshake (capnp/host.capnp: Gateway.hello, then
// Challenge.authenticate; the signed bytes in capnp/host_auth.h). Client::connect uses it; so
// can code that drives the capnp interface itself (benchmarks, tests).

#include <airlock/capnp/host.capnp.h>
#include <kj/async.h>

#include <string>

#include "audit/signing_key.h"

namespace airlock {

// Who this client is: its name (what policies call `caller`) and its secret key, which never
// leaves this process (it signs; only the signature crosses the socket). Wiped on destruction.
struct ClientIdentity {
  std::string name;
  kj::Own<audit::SigningKey> key;

  // Reads NAME.key as `airlock keygen --client NAME` wrote it: the name is the file name without
  // ".key". The file must be a regular file owned by this process's uid, mode 0600 (or 0400).
  // Throws kj::Exception naming the file and what is wrong.
  static ClientIdentity fromFile(const std::string& keyFile);
};

// Reads a public key file (`broker.pub`); throws naming the file and what is wrong.
audit::PublicKey brokerKeyFromFile(const std::string& publicKeyFile);

// Runs the handshake on `gateway` and returns the Session. Before answering, it checks that
// airlockd signed this handshake with `brokerKey` and that the peer credentials airlockd saw are
// this process's own uid and pid (a relay in between would show its own). Throws kj::Exception
// saying which check failed, or airlockd's refusal (whose reason is in airlockd's audit log).
rpc::Session::Client authenticate(rpc::Gateway::Client gateway, const ClientIdentity& identity,
                                  const audit::PublicKey& brokerKey, kj::WaitScope& waitScope);

}  // namespace airlock

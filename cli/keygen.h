#pragma once
// `airlock keygen`: makes Ed25519 key pairs: the broker's (its identity to host clients and the
// signer of audit checkpoints) and host clients' (their identity in the handshake).

namespace airlock::cli {

// argv[0] is "keygen". Writes PREFIX.key (0600) and PREFIX.pub (0644), or with --client NAME
// DIR/NAME.key and DIR/NAME.pub, never overwriting.
// Returns the exit status: 0 written, 1 cannot write, 2 usage error.
int keygenMain(int argc, char** argv);

}  // namespace airlock::cli

// cli/main.cc dispatches to it unqualified.
using airlock::cli::keygenMain;

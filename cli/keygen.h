#pragma once
// `airlock keygen`: makes the Ed25519 key pair airlockd signs audit checkpoints with.

namespace airlock::cli {

// argv[0] is "keygen". Writes PREFIX.key (0600) and PREFIX.pub (0644), never overwriting.
// Returns the exit status: 0 written, 1 cannot write, 2 usage error.
int keygenMain(int argc, char** argv);

}  // namespace airlock::cli

// cli/main.cc dispatches to it unqualified.
using airlock::cli::keygenMain;

#pragma once
// Dropping every capability for good. Child-side, between clone3 and execve.

#include "sandbox/setup_error.h"

namespace airlock::sandbox {

void dropAllCapabilities(const SetupReporter& reporter);
// Empties the bounding and ambient sets, locks securebits so that uid 0 inside the sandbox never
// regains capabilities (execve as root, setuid fix-ups, ambient raises), then empties the
// effective/permitted/inheritable sets and sets no_new_privs. Needs CAP_SETPCAP in the sandbox's
// user namespace, so it runs after every privileged setup step. Fails through `reporter`.

}  // namespace airlock::sandbox

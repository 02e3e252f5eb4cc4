#pragma once
// What a seccomp profile costs a worker: the filter built from the default groups alone and with
// what a ~360-syscall Docker-format profile is granted, each compiled, installed and run in the
// same run.

#include <string>
#include <vector>

#include "bench/samples.h"

namespace airlock::bench {

std::vector<Figure> seccompProfileFigures(const std::string& profilePath, int samples,
                                          int callsPerSample);
// Rows: BPF instructions of each filter; compile time (libseccomp, in the broker) and install
// time (seccomp(2) in a fresh forked child) of each; and the cost of one allowed getppid() in a
// loop of `callsPerSample` inside a forked child with no filter, the default filter and the
// profile's filter (the child sets no_new_privs, installs the filter and times the loop; the
// broker's supervisor is not involved, since nothing is refused). Throws if the profile does
// not parse.

}  // namespace airlock::bench

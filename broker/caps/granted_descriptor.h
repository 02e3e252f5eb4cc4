#pragma once
// A host's open file handed to one call as a grant (`airlock call --grant-fd`): checked when the
// call arrives, then served to the worker that opens the grant's path. The host's own authority,
// never more: only a regular file or a directory, only the modes its description permits, and
// never the host's description itself (a worker sharing its offset and flags): each open is a
// fresh description of the same file, opened with exactly the modes asked. Event-loop thread.

#include <optional>
#include <string>

#include "broker/caps/open_beneath.h"
#include "broker/policy/model/call_grant.h"

namespace airlock::broker {

// Takes a copy of `fd` (received with the call; the caller keeps its own) as the descriptor of a
// grant asking `modes`, if the file is a regular file or a directory and its description permits
// every mode asked (read needs a readable description, write, truncate and append a writable
// one; an O_APPEND description is granted only with append, so a worker cannot overwrite what
// the host could only append to). Otherwise nullopt, and `refusal` says why.
std::optional<policy::DescriptorGrant> receiveGrantedDescriptor(int fd, policy::OpenModes modes,
                                                                std::string& refusal);

// A fresh description of the granted file for a worker's open with `modes` (within the grant:
// decided before), through /proc/self/fd of the broker's copy: access mode from `modes`, O_TRUNC
// with truncate, O_APPEND with append or when the host's description had it; never O_CREAT. The
// result is checked to be the very file received (device and inode).
OpenBeneathResult reopenGrantedDescriptor(const policy::DescriptorGrant& granted,
                                          policy::OpenModes modes);

}  // namespace airlock::broker

#pragma once
// What one call was handed by its caller: paths, each with the open modes the worker may use on
// it during that call and nothing longer. A grant is admitted against the unit's `grant` rules
// before any worker sees the call (decide_grant.h); then only fs.open rules written
// `granted_only = true` reach a granted path, and only while its call lasts (decide.h). A grant
// may instead hand an open descriptor of the host's under the path: the broker then serves that
// file to the worker opening the path. Data (and the descriptor's owner); any thread.

#include <kj/io.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "broker/policy/model/policy.h"

namespace airlock::policy {

// A call carries at most this many grants: each is decided per call and matched on every
// fs.open of the call, and the call's record lists them all.
inline constexpr size_t MAX_GRANTS_PER_CALL = 32;

// A file the host handed a call as an open descriptor, as the broker found it on receipt.
struct DescriptorGrant {
  DescriptorKind kind = DescriptorKind::REGULAR;
  OpenModes access;  // what the host's file description permits: read, write, truncate, append
  bool appendOnly = false;  // the host's description is O_APPEND: so is every worker's
  uint64_t device = 0, inode = 0;
  std::shared_ptr<const kj::AutoCloseFd> fd;
  // The broker's own copy of the host's descriptor (close-on-exec), shared by the copies of the
  // grant (each call on a typed capability gets one) and closed with the last. A worker never
  // gets it: it gets a fresh description of the same file, opened with the modes it asked.
};

struct CallGrant {
  std::string path;  // an absolute request path (validateRequestPath): one file or directory
  OpenModes modes;   // never empty
  const Rule* rule = nullptr;
  // The `grant` rule that admitted it, borrowed from the policy the call is decided by; null
  // for a grant only explained (`policy explain ... grant=PATH:MODES`).
  std::optional<DescriptorGrant> descriptor = std::nullopt;
  // Set for a descriptor grant: the path names the host's open file.

  // The id a request allowed through this grant names as its deciding rule: "<rule id>#<index>"
  // ("grant#<index>" without a rule), `index` being the grant's place in its call.
  std::string idAt(size_t index) const;
  std::string describe() const;  // "/srv/docs/a.xml (read)", "... (read, a regular descriptor)"
};

using CallGrants = std::span<const CallGrant>;

// The index of the first grant that covers `path` with every mode of `modes`, or -1. A grant
// covers its own path only: granting a directory grants its entries nothing.
int coveringGrant(CallGrants grants, std::string_view path, OpenModes modes);

}  // namespace airlock::policy

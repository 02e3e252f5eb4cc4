#pragma once
// Everything a reload replaces, as one immutable value: the unit policies, their revision, the
// granted roots opened for them and the client keys. airlockd holds the set in force through a
// shared pointer (Routing::policy); a call takes its own reference when it starts, so a reload
// never frees what a call in flight is still using, and a call is decided by one set from start
// to end. Event-loop thread only.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/caps/fs_roots.h"
#include "broker/policy/load/policy_loader.h"
#include "broker/policy/model/policy.h"
#include "broker/state/client_keys.h"

namespace airlock::broker {

struct PolicySet {
  std::vector<policy::UnitPolicy> units;
  policy::BrokerSettings broker;  // who the admins are
  std::shared_ptr<const std::string> revision;  // stamped on every unit and decision record
  FsRoots roots;
  ClientKeys clients;

  const policy::UnitPolicy* find(std::string_view unit) const;  // null: no such unit
  // Whether some unit lets a caller hand a call an open descriptor (a grant rule with
  // `descriptors`): only then does airlockd take descriptors on a new host connection. Known
  // from the index, so an accepted connection does not scan every rule.
  bool takesDescriptorGrants() const { return takesDescriptorGrants_; }
  // Every call looks its unit up: by name in an index, not by a scan of `units`.
  void indexUnits();  // after `units` is filled; `units` is not changed after

 private:
  std::map<std::string, size_t, std::less<>> byName_;
  bool takesDescriptorGrants_ = false;
};

// Where a set is read from: what airlockd was started with.
struct PolicySources {
  std::string policiesDir;  // --policies
  policy::LoadOptions load;  // --define, --workers
  std::string clientKeysDir;  // --client-keys
  bool refuseLearn = false;   // --refuse-learn: a set with a learning unit is an error
};

struct PolicySetLoad {
  std::shared_ptr<const PolicySet> set;  // null if anything failed
  std::vector<std::string> errors;       // "file:line:col: message" or "--client-keys ...", all
  std::vector<std::string> warnings;
};

// The names of `set`'s learning units (policy.h UnitMode), in set order.
std::vector<std::string> learningUnits(const PolicySet& set);

// Reads the policy directory and the client keys, all or nothing: any error leaves `set` null.
// With sources.refuseLearn, a learning unit is an error at its `mode` (file:line).
// Reads the file system; call it at start-up or reload, never per call.
PolicySetLoad loadPolicySet(const PolicySources& sources);

// A unit of `set` as its own shared pointer: keeps the whole set alive while it is held.
std::shared_ptr<const policy::UnitPolicy> unitOf(const std::shared_ptr<const PolicySet>& set,
                                                 const policy::UnitPolicy& unit);

}  // namespace airlock::broker

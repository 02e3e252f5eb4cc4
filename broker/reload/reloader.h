#pragma once
// Policy reload: re-reads the policy directory and the client keys and, if they check, swaps the
// new set in between two events of the loop. A set with any error is refused whole and the one in
// force stays. Units whose workers start the same way keep them; others get a new pool (calls in
// flight finish on the old one, which then stops). Every reload, applied or refused, is one
// `policy.reload` audit record naming who asked and the old and new revisions; if that record
// cannot be written, nothing changes. Event-loop thread only.

#include <kj/async-io.h>

#include <string>
#include <vector>

#include "broker/policy/review/unit_changes.h"
#include "broker/state/policy_set.h"
#include "broker/state/routing.h"

namespace airlock::broker {

struct ReloadOutcome {
  bool applied = false;
  std::string previousRevision;
  std::string revision;             // in force afterwards (the previous one if not applied)
  std::vector<std::string> errors;  // why it was refused
  policy::UnitChanges changes;
  std::vector<std::string> clientsAdded, clientsRemoved;

  std::string summary() const;  // one line for the log and for `airlock reload`
};

// Makes `set`'s learning units loud as it comes into force (start-up, reload): a warning line per
// unit, and `audit` marks every later record of each ("mode":"learn", AuditLog::setLearningUnits).
void announceLearningUnits(const PolicySet& set, audit::AuditLog& audit);

class Reloader {
 public:
  Reloader(Routing& routing, PolicySources sources, kj::AsyncIoContext& io)
      : routing_(routing), sources_(kj::mv(sources)), io_(io) {}

  // `requestedBy` is the audit record's `caller`: "signal:SIGHUP" or an admin client.
  ReloadOutcome reload(const std::string& requestedBy);

  // Starts a pool for every unit of the set in force (at start-up).
  void startPools();

 private:
  void startPool(const std::shared_ptr<const PolicySet>& set, const policy::UnitPolicy& unit);
  void apply(std::shared_ptr<const PolicySet> next, const policy::UnitChanges& changes);

  Routing& routing_;
  const PolicySources sources_;
  kj::AsyncIoContext& io_;
};

}  // namespace airlock::broker

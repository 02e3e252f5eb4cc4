#include "broker/supervisor/unit_sandbox.h"

namespace airlock::broker {

sandbox::SandboxSpec sandboxSpecFor(const policy::UnitPolicy& unit) {
  sandbox::SandboxSpec spec;
  spec.program = unit.workerPath;
  spec.readOnlyPaths = unit.readOnlyPaths;
  spec.env = {"AIRLOCK_UNIT=" + unit.name};
  // Policies cannot weaken the sandbox yet: Landlock is required and the limits are the
  // defaults. TODO(security): policy keys for limits and an explicit `unsafe_` best-effort.
  spec.landlock = sandbox::Strictness::REQUIRED;
  return spec;
}

}  // namespace airlock::broker

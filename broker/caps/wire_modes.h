#pragma once
// Open modes as the wire carries them (worker.capnp OpenMode, host.capnp GrantMode: one Bool per
// mode) into the policy's OpenModes. `exclusive`, which only OpenMode has, is the caller's to read.

#include "broker/policy/model/policy.h"

namespace airlock::broker {

template <typename ModeReader>
policy::OpenModes openModesFrom(ModeReader mode) {
  policy::OpenModes modes;
  if (mode.getRead()) modes.add(policy::OpenMode::READ);
  if (mode.getWrite()) modes.add(policy::OpenMode::WRITE);
  if (mode.getCreate()) modes.add(policy::OpenMode::CREATE);
  if (mode.getTruncate()) modes.add(policy::OpenMode::TRUNCATE);
  if (mode.getAppend()) modes.add(policy::OpenMode::APPEND);
  return modes;
}

}  // namespace airlock::broker

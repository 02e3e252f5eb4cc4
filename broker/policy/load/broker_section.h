#pragma once
// Loader internal: the [broker] table, which a policy file holds instead of a unit.

#include <toml++/toml.h>

#include "broker/policy/load/policy_loader.h"
#include "broker/policy/load/toml_reader.h"

namespace airlock::policy::_ {

// Fills `broker` from the [broker] table `node`: `admins`, the client identities that may use
// airlockd's admin operations. Records every problem in `diag`.
void readBrokerSection(const toml::node& node, Diagnostics& diag, BrokerSettings& broker);

}  // namespace airlock::policy::_

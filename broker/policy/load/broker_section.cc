#include "broker/policy/load/broker_section.h"

#include <algorithm>
#include <array>

#include "capnp/host_auth.h"

namespace airlock::policy::_ {

void readBrokerSection(const toml::node& node, Diagnostics& diag, BrokerSettings& broker) {
  broker.where = diag.at(node.source());
  const toml::table* table = node.as_table();
  if (table == nullptr) {
    diag.error(node.source(), "[broker] must be a table, not " + std::string(typeName(node)));
    return;
  }
  static constexpr std::array<std::string_view, 1> KNOWN = {"admins"};
  checkKnownKeys(*table, KNOWN, "[broker]", diag);
  auto admins = readStringList(*table, "admins", "[broker]", Presence::REQUIRED, diag);
  if (!admins) return;
  for (const Located<std::string>& entry : *admins) {
    std::string refused = rpc::validateClientName(entry.value);
    if (!refused.empty()) {
      diag.error(*entry.where, "[broker] admins: \"" + entry.value + "\": " + refused);
    } else if (std::find(broker.admins.begin(), broker.admins.end(), entry.value) !=
               broker.admins.end()) {
      diag.error(*entry.where, "[broker] admins: \"" + entry.value + "\" is listed twice");
    } else {
      broker.admins.push_back(entry.value);
    }
  }
}

}  // namespace airlock::policy::_

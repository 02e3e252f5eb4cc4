#pragma once
// Internal to the revision (revision.h): the canonical bytes of a rule, what the revision digests
// and what a reload compares. Each operation's row (operations.h) points at the function writing
// its conditions. A policy's revision must not change unless what it means does, so a function
// here only ever appends fields after the ones it wrote before, and only when they are set.

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/policy/model/policy.h"

namespace airlock::policy::_ {

// Appends one field, length-prefixed ("5:fs.ls,"), so no two different sequences of fields
// serialize alike.
void put(std::string& out, std::string_view field);
void put(std::string& out, uint64_t number);

// Appends the rule: id, effect, operation name, then its operation's conditions.
void putRule(std::string& out, const Rule& rule);

void putFsOpenConditions(std::string& out, const Rule& rule);      // path, modes
void putFsPathConditions(std::string& out, const Rule& rule);      // path
void putCallConditions(std::string& out, const Rule& rule);        // callers, uids, methods
void putGrantConditions(std::string& out, const Rule& rule);  // callers, uids, path, modes
void putSecretsGetConditions(std::string& out, const Rule& rule);  // names
void putNetConnectConditions(std::string& out, const Rule& rule);  // unix_path, hosts, ports
void putInvokeConditions(std::string& out, const Rule& rule);      // units, methods

}  // namespace airlock::policy::_

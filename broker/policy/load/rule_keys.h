#pragma once
// Loader internal: the keys of one [[rule]] table that belong to its operation (path and mode,
// caller and method, host and port, ...). Each operation's row (operations.h) points at its
// reader here; the keys every rule takes (id, allow/deny, justification) are rule_section.cc's.

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <string_view>

#include "broker/policy/load/policy_loader.h"
#include "broker/policy/load/toml_reader.h"

namespace airlock::policy::_ {

// One rule being read: the table and its name in messages. Borrows both; lives for one rule.
struct RuleReader {
  const toml::table& table;
  std::string context;  // `rule "id"` or `rule #3`
  Diagnostics& diag;
  WorkerReuse workerReuse = WorkerReuse::ANY;  // the unit's [unit] worker_reuse, read before

  void error(const toml::source_region& where, const std::string& message) {
    diag.error(where, context + ": " + message);
  }
};

// `text` with ${name} expanded (options.defines), parsed as a path pattern; nullopt with `error`
// set to "\"TEXT\" (expanded to ...): why" when it is not one.
std::optional<PathPattern> expandPattern(const std::string& text, const LoadOptions& options,
                                         std::string& error);

// `key` (a rule's `host`, [unit] learn_hosts): exact lowercase names, IP literals and CIDR
// blocks, told apart by their text, into keys.hostNames and keys.hostBlocks.
void readHosts(RuleReader& r, std::string_view key, NetKeys& keys);

// Each reads its operation's keys into `rule`, reports every problem through `r` and leaves the
// field of a key it refused empty; the caller drops a rule that had errors. Patterns are read
// after ${name} expansion with `options.defines`.
void readFsOpenKeys(RuleReader& r, const LoadOptions& options, Rule& rule);
// path, mode, granted_only
void readGrantKeys(RuleReader& r, const LoadOptions& options, Rule& rule);
// caller, caller_uid, path, mode
void readFsPathKeys(RuleReader& r, const LoadOptions& options, Rule& rule);  // path
void readCallKeys(RuleReader& r, const LoadOptions& options, Rule& rule);
// caller, caller_uid, caller_unit, method
void readSecretsGetKeys(RuleReader& r, const LoadOptions& options, Rule& rule);  // name
void readNetConnectKeys(RuleReader& r, const LoadOptions& options, Rule& rule);
// host and port, or unix_path
void readInvokeKeys(RuleReader& r, const LoadOptions& options, Rule& rule);  // unit, method

}  // namespace airlock::policy::_

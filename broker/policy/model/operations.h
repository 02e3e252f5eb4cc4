#pragma once
// The operations a policy rule can allow or deny, and one table holding what the policy code knows
// about each: its name, how its requests are matched, the rule keys it takes, and the functions
// that read, summarize, hash and explain its rules. Loading, `policy explain`, `policy diff`, the
// revision and the review checks read the operation's row instead of switching on it, so a new
// operation is one new row plus the functions it points at. The rows are defined in
// broker/policy/table/operations.cc, above every job they point into, so that this declaration
// stays at the bottom (model/) and load/, decide/ and review/ can read it.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace airlock::policy {

struct Rule;
struct UnitPolicy;
struct LoadOptions;
struct ExplainRequest;
struct Explanation;
namespace _ {
struct RuleReader;
}

// Each value is its row's index in the table (table/operations.cc asserts it): keep them dense.
enum class Operation : uint8_t {
  FS_OPEN,  // worker -> broker: open a file (rule keys: path, mode)
  CALL,     // host or unit -> unit: call a method (rule keys: caller, caller_uid, caller_unit,
            // method)
  SECRETS_GET,  // worker -> broker: read a secret's value (rule key: name)
  // worker -> broker, one path each (rule key: path; no modes: the operation is the grant)
  FS_STAT,     // a file's type, size, permissions and mtime, never following a final symlink
  FS_LIST,     // a directory's entries
  FS_MKDIR,    // create one directory
  FS_UNLINK,   // remove a file, a symlink or an empty directory
  FS_RENAME,   // both the old and the new path must be allowed
  FS_SYMLINK,  // create a symlink whose target stays beneath the rule's root
  NET_CONNECT,  // worker -> broker: a connected socket (rule keys: host, port or unix_path)
  INVOKE,       // worker -> another unit, through the broker (rule keys: unit, method)
  GRANT,  // host -> one call: a path and modes the call's worker may use while it lasts (rule
          // keys: caller, caller_uid, path, mode; call_grant.h)
};
inline constexpr std::array<Operation, 12> ALL_OPERATIONS = {
    Operation::FS_OPEN, Operation::CALL,     Operation::SECRETS_GET,
    Operation::FS_STAT, Operation::FS_LIST,  Operation::FS_MKDIR,
    Operation::FS_UNLINK, Operation::FS_RENAME, Operation::FS_SYMLINK, Operation::NET_CONNECT,
    Operation::INVOKE, Operation::GRANT};

// What a request of the operation is matched against. It decides how the operation's rules are
// indexed and ranked (decide.h) and which review checks apply to them (lint.h, dangerous.h).
enum class Matching : uint8_t {
  PATH_AND_MODES,  // a path pattern, most specific first, and the open modes asked (fs.open)
  PATH,            // a path pattern alone, most specific first: the operation is the grant
  NAMES,           // exact names the rule lists: callers, units, methods, secrets
  NET_TARGET,      // a host and port, or a Unix socket's path (decide_net.h)
  GRANT,           // a caller, then a path pattern and modes, most specific first (decide_grant.h)
};

// Whether allowing the operation lets a worker change the file system: the review gate treats
// such a grant as write access (dangerous.h).
enum class FsWrite : uint8_t {
  NEVER,     // reads only, or not the file system at all
  BY_MODES,  // when the rule grants a writing open mode (write, create, truncate, append)
  ALWAYS,    // the operation itself changes the tree (mkdir, unlink, rename, symlink)
};

struct OperationRow {
  Operation operation;
  std::string_view name;  // the policy's `allow =` word and the audit event; null-terminated
  Matching matching;
  FsWrite fsWrite;

  std::span<const std::string_view> ruleKeys;
  // The keys its rules take besides id, allow/deny and justification, in the order the loader
  // lists them in messages. A key of another operation's rule on this one is an error.

  std::span<const std::string_view> explainRequired, explainOptional;
  // The `--arg` keys of `airlock policy explain` for this operation (explain.h).

  void (*initKeys)(Rule& rule);
  // Gives `rule` this operation's type of keys, empty (policy.h OperationKeys): the one place an
  // operation is tied to what its rules match on.
  void (*readRuleKeys)(_::RuleReader& reader, const LoadOptions& options, Rule& rule);
  // Reads `ruleKeys` of one [[rule]] into `rule`, reporting each problem (rule_keys.h).
  void (*summarize)(const Rule& rule, std::string& out);
  // Appends " key=value ..." for the one-line summary `policy diff` shows (rule_summary.h).
  void (*putCanonical)(std::string& out, const Rule& rule);
  // Appends the rule's conditions to its canonical form (canonical_rule.h). Changing what it
  // writes for an existing policy changes that policy's revision.
  void (*explain)(const UnitPolicy* unit, Operation op, const ExplainRequest& request,
                  Explanation& out);
  // Decides an explain request whose arguments passed the key check; `unit` is null when no
  // policy defines the requested unit (explain_operations.h).

  bool decidedByPath() const {
    return matching == Matching::PATH || matching == Matching::PATH_AND_MODES;
  }
};

const OperationRow& operationRow(Operation op);
// The row of `op`. `op` must be one of ALL_OPERATIONS (policies only ever hold those).

std::optional<Operation> operationNamed(std::string_view name);
// The operation whose name is `name` ("fs.open"), or nullopt.

std::string operationList();
// "fs.open, call, secrets.get, ...": every operation's name in table order, for messages.

const char* operationName(Operation op);
// operationRow(op).name, for audit records and messages: "fs.open", "call", "secrets.get",
// "fs.stat", ..., "net.connect", "invoke".

bool isFsOperation(Operation op);
// The fs.* operations (decidedByPath): their rules have a `path` pattern, are indexed by its root
// (FsRuleIndex) and decided most-specific-first; all but fs.open have no `mode`.

}  // namespace airlock::policy

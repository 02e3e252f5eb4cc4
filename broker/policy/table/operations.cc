#include "broker/policy/model/operations.h"

#include <kj/debug.h>

#include "broker/policy/load/rule_keys.h"
#include "broker/policy/model/canonical_rule.h"
#include "broker/policy/model/policy.h"
#include "broker/policy/review/explain_operations.h"
#include "broker/policy/review/rule_summary.h"

namespace airlock::policy {

namespace _ {
namespace {

// The rule keys of each kind of operation, in the order the loader lists known keys.
constexpr std::string_view FS_OPEN_KEYS[] = {"path", "mode", "granted_only"};
constexpr std::string_view FS_PATH_KEYS[] = {"path"};
constexpr std::string_view CALL_KEYS[] = {"caller", "caller_uid", "caller_unit", "method"};
constexpr std::string_view SECRETS_GET_KEYS[] = {"name"};
constexpr std::string_view NET_CONNECT_KEYS[] = {"host", "port", "unix_path"};
constexpr std::string_view INVOKE_KEYS[] = {"unit", "method"};
constexpr std::string_view GRANT_KEYS[] = {"caller", "caller_uid", "path", "mode", "descriptors"};

// The `--arg` keys of `airlock policy explain`, required and optional.
constexpr std::string_view PATH_ARG[] = {"path"};
constexpr std::string_view FS_OPEN_ARGS[] = {"path", "mode"};
// What the call was granted, as `airlock call --grant` writes it: PATH:MODES.
constexpr std::string_view FS_OPEN_OPTIONAL_ARGS[] = {"grant"};
constexpr std::string_view GRANT_ARGS[] = {"caller", "uid", "path", "mode"};
// A grant handed as an open descriptor, as `airlock call --grant-fd` hands it: its kind.
constexpr std::string_view GRANT_OPTIONAL_ARGS[] = {"descriptor"};
constexpr std::string_view RENAME_ARGS[] = {"from", "to"};
constexpr std::string_view SYMLINK_OPTIONAL_ARGS[] = {"target"};
constexpr std::string_view METHOD_ARG[] = {"method"};
constexpr std::string_view CALLER_ARGS[] = {"caller", "uid", "caller_unit"};
constexpr std::string_view NAME_ARG[] = {"name"};
// Either host and port (and the address a name resolves to) or unix_path: explainNetConnect
// checks which.
constexpr std::string_view NET_CONNECT_ARGS[] = {"host", "port", "address", "unix_path"};
constexpr std::string_view INVOKE_ARGS[] = {"unit", "method"};
constexpr std::span<const std::string_view> NONE;

template <typename Keys>
void initKeysAs(Rule& rule) {
  rule.keys = Keys{};
}

// One row per operation, at the index of its enum value. The fs.* operations other than fs.open
// share their functions: the operation's name, already in the rule, is all that tells them apart.
constexpr OperationRow OPERATIONS[] = {
    {Operation::FS_OPEN, "fs.open", Matching::PATH_AND_MODES, FsWrite::BY_MODES,
     FS_OPEN_KEYS, FS_OPEN_ARGS, FS_OPEN_OPTIONAL_ARGS,
     initKeysAs<FsKeys>, readFsOpenKeys, summarizeFsOpen, putFsOpenConditions, explainFsOpen},
    {Operation::CALL, "call", Matching::NAMES, FsWrite::NEVER,
     CALL_KEYS, METHOD_ARG, CALLER_ARGS,
     initKeysAs<CallKeys>, readCallKeys, summarizeCall, putCallConditions, explainCall},
    {Operation::SECRETS_GET, "secrets.get", Matching::NAMES, FsWrite::NEVER,
     SECRETS_GET_KEYS, NAME_ARG, NONE,
     initKeysAs<SecretsKeys>, readSecretsGetKeys,
     summarizeSecretsGet, putSecretsGetConditions, explainSecretsGet},
    {Operation::FS_STAT, "fs.stat", Matching::PATH, FsWrite::NEVER,
     FS_PATH_KEYS, PATH_ARG, NONE,
     initKeysAs<FsKeys>, readFsPathKeys, summarizeFsPath, putFsPathConditions, explainFsPath},
    {Operation::FS_LIST, "fs.list", Matching::PATH, FsWrite::NEVER,
     FS_PATH_KEYS, PATH_ARG, NONE,
     initKeysAs<FsKeys>, readFsPathKeys, summarizeFsPath, putFsPathConditions, explainFsPath},
    {Operation::FS_MKDIR, "fs.mkdir", Matching::PATH, FsWrite::ALWAYS,
     FS_PATH_KEYS, PATH_ARG, NONE,
     initKeysAs<FsKeys>, readFsPathKeys, summarizeFsPath, putFsPathConditions, explainFsPath},
    {Operation::FS_UNLINK, "fs.unlink", Matching::PATH, FsWrite::ALWAYS,
     FS_PATH_KEYS, PATH_ARG, NONE,
     initKeysAs<FsKeys>, readFsPathKeys, summarizeFsPath, putFsPathConditions, explainFsPath},
    {Operation::FS_RENAME, "fs.rename", Matching::PATH, FsWrite::ALWAYS,
     FS_PATH_KEYS, RENAME_ARGS, NONE,
     initKeysAs<FsKeys>, readFsPathKeys, summarizeFsPath, putFsPathConditions, explainFsRename},
    {Operation::FS_SYMLINK, "fs.symlink", Matching::PATH, FsWrite::ALWAYS,
     FS_PATH_KEYS, PATH_ARG, SYMLINK_OPTIONAL_ARGS,
     initKeysAs<FsKeys>, readFsPathKeys, summarizeFsPath, putFsPathConditions, explainFsSymlink},
    {Operation::NET_CONNECT, "net.connect", Matching::NET_TARGET, FsWrite::NEVER,
     NET_CONNECT_KEYS, NONE, NET_CONNECT_ARGS,
     initKeysAs<NetKeys>, readNetConnectKeys,
     summarizeNetConnect, putNetConnectConditions, explainNetConnect},
    {Operation::INVOKE, "invoke", Matching::NAMES, FsWrite::NEVER,
     INVOKE_KEYS, INVOKE_ARGS, NONE,
     initKeysAs<InvokeKeys>, readInvokeKeys, summarizeInvoke, putInvokeConditions, explainInvoke},
    {Operation::GRANT, "grant", Matching::GRANT, FsWrite::BY_MODES,
     GRANT_KEYS, GRANT_ARGS, GRANT_OPTIONAL_ARGS,
     initKeysAs<GrantKeys>, readGrantKeys, summarizeGrant, putGrantConditions, explainGrant},
};

// operationRow indexes by the enum's value, and every operation needs its row.
constexpr bool rowsFollowTheEnum() {
  if (std::size(OPERATIONS) != ALL_OPERATIONS.size()) return false;
  for (size_t i = 0; i < std::size(OPERATIONS); ++i) {
    if (static_cast<size_t>(OPERATIONS[i].operation) != i) return false;
    if (ALL_OPERATIONS[i] != OPERATIONS[i].operation) return false;
  }
  return true;
}
static_assert(rowsFollowTheEnum(), "row i of OPERATIONS must be the operation whose value is i");

}  // namespace
}  // namespace _

const OperationRow& operationRow(Operation op) {
  auto index = static_cast<size_t>(op);
  // Only a cast can make an Operation without a row; reading past the table would be worse.
  KJ_ASSERT(index < std::size(_::OPERATIONS), "an operation without a row", index);
  return _::OPERATIONS[index];
}

std::optional<Operation> operationNamed(std::string_view name) {
  for (const OperationRow& row : _::OPERATIONS) {
    if (row.name == name) return row.operation;
  }
  return std::nullopt;
}

std::string operationList() {
  std::string out;
  for (const OperationRow& row : _::OPERATIONS) {
    out += (out.empty() ? "" : ", ") + std::string(row.name);
  }
  return out;
}

const char* operationName(Operation op) { return operationRow(op).name.data(); }

bool isFsOperation(Operation op) { return operationRow(op).decidedByPath(); }

}  // namespace airlock::policy

#pragma once
// The typed, immutable form of one unit's policy file. Parsed once (policy_loader.h); the broker
// only ever reads it. Every rule keeps the file:line it came from so decisions and errors can
// point at it.

#include <sys/types.h>

#include <array>
#include <chrono>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <kj/debug.h>

#include "broker/policy/model/refusal.h"
#include "broker/policy/model/resources.h"
#include "broker/policy/model/net_address.h"
#include "broker/policy/model/operations.h"
#include "broker/policy/model/path_pattern.h"
#include "broker/policy/model/typed_interface.h"

namespace airlock::sandbox {
struct ProfileGrants;  // sandbox/profile_grants.h
}  // namespace airlock::sandbox

namespace airlock::policy {

class FsRuleIndex;

struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  std::string describe() const;  // "file:line:col"
};

enum class Effect : uint8_t { ALLOW, DENY };

// Open modes as a bit set; a request must ask only for modes some rule grants.
enum class OpenMode : uint8_t { READ = 1, WRITE = 2, CREATE = 4, TRUNCATE = 8, APPEND = 16 };
struct OpenModes {
  uint8_t bits = 0;
  bool has(OpenMode m) const { return bits & static_cast<uint8_t>(m); }
  void add(OpenMode m) { bits |= static_cast<uint8_t>(m); }
  bool subsetOf(OpenModes other) const { return (bits & ~other.bits) == 0; }
  std::string describe() const;  // "read,write"; "none" when empty
};
inline constexpr std::array<OpenMode, 5> ALL_OPEN_MODES = {
    OpenMode::READ, OpenMode::WRITE, OpenMode::CREATE, OpenMode::TRUNCATE, OpenMode::APPEND};
const char* openModeName(OpenMode mode);  // "read", "write", ...: the names used in files

// The kinds of open file a host may hand a call as a descriptor (a grant rule's `descriptors`),
// as a bit set. Sockets, FIFOs and devices are never among them.
enum class DescriptorKind : uint8_t { REGULAR = 1, DIRECTORY = 2 };
struct DescriptorKinds {
  uint8_t bits = 0;
  bool has(DescriptorKind k) const { return bits & static_cast<uint8_t>(k); }
  void add(DescriptorKind k) { bits |= static_cast<uint8_t>(k); }
  bool empty() const { return bits == 0; }
  std::string describe() const;  // "regular,directory"; "none" when empty
};
inline constexpr std::array<DescriptorKind, 2> ALL_DESCRIPTOR_KINDS = {DescriptorKind::REGULAR,
                                                                       DescriptorKind::DIRECTORY};
const char* descriptorKindName(DescriptorKind kind);  // "regular", "directory"
std::optional<DescriptorKind> parseDescriptorKind(std::string_view name);

// Method names: what a host may ask for and a `method` list may name. Bounded because the name
// comes from a host and ends up in audit records.
inline constexpr size_t MAX_METHOD_NAME_BYTES = 64;
Refusal validateMethodName(std::string_view method);
// Passes if `method` is [A-Za-z_][A-Za-z0-9_.-]* and at most
// MAX_METHOD_NAME_BYTES long, otherwise refuses saying why. "*" is not a method name (it is
// only meaningful in a rule's method list).

// Unit names: what a [unit] name is, an invoke rule's `unit` and a call rule's `caller_unit`
// list, and what a worker may invoke. Bounded because the name comes from a worker too.
inline constexpr size_t MAX_UNIT_NAME_BYTES = 64;
Refusal validateUnitName(std::string_view name);
// Passes if `name` is 1 to MAX_UNIT_NAME_BYTES of a-z, 0-9 and '-', otherwise refuses saying
// why.

// Secret names: what a worker may ask for and a `name` list may name. They are file names in the
// secret store's directory, so no '/', and never "." or "..". Bounded because the name comes
// from a worker and ends up in audit records.
inline constexpr size_t MAX_SECRET_NAME_BYTES = 128;
Refusal validateSecretName(std::string_view name);
// Passes if `name` is [A-Za-z0-9_.-]{1,MAX_SECRET_NAME_BYTES} and does not start with '.' (so
// neither "." nor ".." nor a hidden file), otherwise refuses saying why.

// The prefix of a file fs.createTemp makes: part of a file name the worker chooses, so no '/',
// and not hidden.
inline constexpr size_t MAX_TEMP_PREFIX_BYTES = 64;
Refusal validateTempPrefix(std::string_view prefix);
// Passes if `prefix` is [A-Za-z0-9._-]{0,MAX_TEMP_PREFIX_BYTES} and does not start with '.',
// otherwise refuses saying why.

// What a rule of each operation matches on: one type per operation, so that a rule carries its
// own operation's keys and no other (Rule::keys). Which type an operation's rules hold is in the
// operations table (OperationRow::initKeys); the loader fills them (load/rule_keys.h), decide
// reads them.

// The fs.* operations (isFsOperation).
struct FsKeys {
  PathPattern path;  // the grant's root is path.root()
  OpenModes modes;   // FS_OPEN only: an allow grants these modes; a deny refuses requests asking
                     // any of them
  bool grantedOnly = false;
  // FS_OPEN allow rules (`granted_only = true`): the rule matches only a path the current call
  // was granted, with modes within the grant (call_grant.h); the deciding rule is then the grant.
};

// Which clients may ask: the callers of a CALL or GRANT rule.
struct CallerKeys {
  std::vector<std::string> callerNames;  // authenticated client identities
  std::vector<uid_t> callerUids;         // if not empty, a client's uid must be one of these too
};

struct CallKeys : CallerKeys {
  std::vector<std::string> callerUnits;  // units that may call through invoke (units never grant)
  // At least one of callerNames / callerUnits is not empty; a client call is matched against
  // callerNames only, a unit's call against callerUnits only.
  std::vector<std::string> methods;  // "*" matches any method
};

// GRANT (`allow = "grant"`): which callers may hand a call which paths (`path`, a pattern) with
// which modes (`modes`).
struct GrantKeys : CallerKeys {
  PathPattern path;
  OpenModes modes;  // the modes a caller may hand a call on a path
  DescriptorKinds descriptors;
  // Allow rules (`descriptors = ["regular"]`): the paths may also be handed as open descriptors
  // of these kinds, the host's own files served under those names; empty: paths only.
};

struct InvokeKeys {
  std::vector<std::string> invokeUnits;  // the callee units, exact names; never empty
  std::vector<std::string> methods;      // "*" matches any method
};

struct SecretsKeys {
  std::vector<std::string> secretNames;  // exact names; never empty
};

// NET_CONNECT: a TCP rule has hostNames and/or hostBlocks, and ports; a Unix-socket rule has only
// unixPath (its root is where the broker resolves the socket's path).
struct NetKeys {
  std::vector<std::string> hostNames;  // exact lowercase names, compared with what was asked
  std::vector<IpBlock> hostBlocks;     // literals (a block of one) and CIDR blocks
  std::vector<PortRange> ports;
  PathPattern unixPath;
  bool isUnixSocketRule() const { return !unixPath.text().empty(); }
};

using OperationKeys = std::variant<FsKeys, CallKeys, GrantKeys, InvokeKeys, SecretsKeys, NetKeys>;

struct Rule {
  std::string id;
  Effect effect = Effect::DENY;
  Operation operation = Operation::FS_OPEN;
  SourceLocation where;
  OperationKeys keys = FsKeys{};  // always `operation`'s type: set both with setOperation

  std::string justification;  // why the rule is needed; required for a dangerous allowance
                              // (dangerous.h). Not part of the revision: it explains, not decides

  // The keys as the operation's type. Asking for another operation's keys is a bug, not a
  // policy problem: it fails loudly rather than reading empty keys as "matches nothing".
  const FsKeys& fs() const { return as<FsKeys>(); }
  FsKeys& fs() { return as<FsKeys>(); }
  const CallKeys& call() const { return as<CallKeys>(); }
  CallKeys& call() { return as<CallKeys>(); }
  const GrantKeys& grant() const { return as<GrantKeys>(); }
  GrantKeys& grant() { return as<GrantKeys>(); }
  const InvokeKeys& invoke() const { return as<InvokeKeys>(); }
  InvokeKeys& invoke() { return as<InvokeKeys>(); }
  const SecretsKeys& secrets() const { return as<SecretsKeys>(); }
  SecretsKeys& secrets() { return as<SecretsKeys>(); }
  const NetKeys& net() const { return as<NetKeys>(); }
  NetKeys& net() { return as<NetKeys>(); }
  // The client callers of a CALL or GRANT rule; null for the other operations.
  const CallerKeys* callers() const;
  // The path pattern and open modes of an fs.* or GRANT rule (the rules that reach the file
  // system by path); null for the other operations.
  const PathPattern* pathPattern() const;
  OpenModes openModes() const;  // empty where pathPattern() is null
  // The `method` list of a CALL or INVOKE rule; null for the other operations.
  const std::vector<std::string>* methodList() const;

  std::string describe() const;  // `rule "id" (file:line)`

 private:
  // Not KJ_IREQUIRE: a release build must not read the wrong alternative either.
  template <typename Keys>
  const Keys& as() const {
    const Keys* keys = std::get_if<Keys>(&this->keys);
    KJ_REQUIRE(keys != nullptr, "a rule's keys are its operation's", describe());
    return *keys;
  }
  template <typename Keys>
  Keys& as() {
    return const_cast<Keys&>(static_cast<const Rule*>(this)->as<Keys>());
  }
};

// Makes `rule` a rule of `op` with `op`'s keys, empty (OperationRow::initKeys).
void setOperation(Rule& rule, Operation op);

// Who is calling: a host client, by the identity it authenticated as (capnp/host_auth.h) and the
// uid its connection has (SO_PEERCRED); or a unit, invoking through the broker (uid unused).
// Borrows the name. The two kinds never match each other's rule keys: a client named like a
// unit is still a client.
enum class CallerKind : uint8_t { CLIENT, UNIT };
struct Caller {
  std::string_view name;
  uid_t uid = 0;
  CallerKind kind = CallerKind::CLIENT;
  static Caller unit(std::string_view name) { return Caller{name, 0, CallerKind::UNIT}; }
  std::string describe() const;  // "client web (uid 1000)" or "unit front"
};

// [limits]: what one worker may use, enforced as rlimits in its sandbox. The defaults are the
// sandbox's own (sandbox/sandbox_spec.h ResourceLimits).
struct WorkerLimits {
  uint64_t memoryMiB = 1024;  // address space
  uint64_t openFiles = 256;
  uint64_t threads = 64;
  uint64_t fileSizeMiB = 64;  // the largest file it may write
  uint64_t cpuSeconds = 0;    // CPU time over the worker's life; 0: unlimited
  bool operator==(const WorkerLimits&) const = default;
};

// How a sandbox layer may be applied: REQUIRED fails the worker's start when the kernel cannot
// apply it; BEST_EFFORT starts it weakened (logged and audited), and must be justified.
enum class LayerStrictness : uint8_t { REQUIRED, BEST_EFFORT };

// [sandbox] on_refused_syscall: what the supervisor does with a syscall the worker's filter
// refuses (sandbox/sandbox_spec.h OnRefusedSyscall). KILL is what airlockd always did.
enum class SyscallRefusal : uint8_t { KILL, ERRNO };

// [unit] restart: what the broker does when a worker exits. ALWAYS is what airlockd always did
// (every exit is replaced), so it is the default.
enum class RestartPolicy : uint8_t {
  ALWAYS,      // replace every worker that exits
  ON_FAILURE,  // replace a worker that crashed, was killed or exited non-zero; not one that
               // exited with status 0
  NEVER,       // replace none: the unit is parked once its last worker has gone
};
const char* restartPolicyName(RestartPolicy policy);  // "always", "on-failure", "never"

// [unit] mode: ENFORCE decides by the rules alone. LEARN also performs a request no rule allows
// when it lies within the unit's learn_paths (or learn_hosts), and records it with decision
// "learn" and the rule that would have decided it (decide.h): a dangerous allowance, for drafting
// a policy from a run (`airlock policy suggest`), never for production (`airlockd --refuse-learn`).
enum class UnitMode : uint8_t { ENFORCE, LEARN };
const char* unitModeName(UnitMode mode);  // "enforce", "learn"

// [unit] restart, crash_loop_limit and crash_loop_window_ms, each with where it was written so
// that a parked unit's record and message can point at it.
struct RestartSettings {
  RestartPolicy policy = RestartPolicy::ALWAYS;
  int crashLoopLimit = 0;  // this many worker failures within the window park the unit; 0: never
  std::chrono::milliseconds crashLoopWindow{60000};
  SourceLocation policyWhere, limitWhere;  // empty file when the key is absent

  bool isDefault() const {
    return policy == RestartPolicy::ALWAYS && crashLoopLimit == 0 &&
           crashLoopWindow == std::chrono::milliseconds(60000);
  }
};

// [unit] worker_reuse: which calls one worker may serve in its life. ANY is what airlockd always
// did (any call of any caller, also several at once), so it is the default.
enum class WorkerReuse : uint8_t {
  ANY,         // any caller's calls
  PER_CALLER,  // one caller's calls only (the caller as audited: "client:web,uid:1000")
  NEVER,       // one call only: then the worker is killed and replaced
};
const char* workerReuseName(WorkerReuse reuse);  // "any", "per-caller", "never"

struct WorkerReuseSetting {
  WorkerReuse reuse = WorkerReuse::ANY;
  SourceLocation where;  // empty file when the key is absent
};

// [unit] max_calls_in_flight, max_calls_per_second and calls_burst: how much of the broker one
// unit's callers may hold (broker/state/flow_limit.h). 0: no limit.
struct FlowLimits {
  uint64_t maxCallsInFlight = 0;   // calls queued or running for the unit
  uint64_t maxCallsPerSecond = 0;  // the token bucket's refill rate
  uint64_t callsBurst = 0;         // its size; 0: maxCallsPerSecond
  SourceLocation inFlightWhere, perSecondWhere;  // empty file when the key is absent

  uint64_t burst() const { return callsBurst != 0 ? callsBurst : maxCallsPerSecond; }
  bool isDefault() const {
    return maxCallsInFlight == 0 && maxCallsPerSecond == 0 && callsBurst == 0;
  }
};

// [unit] max_requests_per_second and requests_burst: the pace of the brokered requests (fs.*,
// net.connect, secrets.get, invoke, log) the unit's workers make, together
// (broker/caps/request_pacer.h). A request over it waits its turn. Always in force: a unit that
// floods the broker must not take the other units' latency, so the default is a pace that costs
// the broker a few percent of one CPU; a unit that needs more says so in its policy.
inline constexpr uint64_t DEFAULT_REQUESTS_PER_SECOND = 1000;
inline constexpr uint64_t DEFAULT_REQUESTS_BURST = 100;

struct RequestLimits {
  uint64_t maxRequestsPerSecond = DEFAULT_REQUESTS_PER_SECOND;
  uint64_t requestsBurst = DEFAULT_REQUESTS_BURST;

  bool isDefault() const {
    return maxRequestsPerSecond == DEFAULT_REQUESTS_PER_SECOND &&
           requestsBurst == DEFAULT_REQUESTS_BURST;
  }
};

// [sandbox] seccomp_profile: the profile file, read once at load, and what it grants a worker.
struct SeccompProfileSetting {
  std::string written;    // the value as written, relative to the policy file's directory
  std::string canonical;  // the parsed profile, key order and whitespace aside (SeccompProfile)
  std::shared_ptr<const sandbox::ProfileGrants> grants;  // evaluated for this kernel, at load
  SourceLocation where;   // of the value
};

struct UnitPolicy {
  std::string name;
  std::string workerPath;  // absolute path of the worker executable (resolved at load)
  std::string workerName;  // `worker` as written in the file, before resolving against --workers
  std::string pythonScript;
  // [unit] python_worker: the absolute path of a Python script python3 runs as the worker
  // (sandbox/python_worker.h); workerPath is then the interpreter. Empty for other units.
  std::string programPath;
  // [unit] program: an absolute path run once per Unit.run call (broker/supervisor/program_run.h)
  // instead of a worker; empty for a worker unit. Such a unit has brokerSyscalls set.
  std::string workerFileIdentity;
  // The worker's (or python_worker script's) file as loaded: device, inode, size and change
  // time. A new build installed over the same path changes it, so a reload restarts the unit's
  // workers (sameWorkers) though the policy reads the same. Not part of the revision, which names
  // the policy, not the build. Empty when the load did not check the worker (policy check,
  // policy diff).

  int instances = 1;
  std::chrono::milliseconds callTimeout{5000};
  size_t maxPayloadBytes = 1 << 20;
  RestartSettings restart;
  WorkerReuseSetting workerReuse;
  FlowLimits flow;
  RequestLimits requests;
  std::vector<std::string> readOnlyPaths;  // extra read-only binds in the sandbox
  LayerStrictness landlock = LayerStrictness::REQUIRED;  // [sandbox] landlock
  std::string sandboxJustification;  // [sandbox] justification: why a layer may be weaker
  SyscallRefusal onRefusedSyscall = SyscallRefusal::KILL;  // [sandbox] on_refused_syscall
  bool brokerSyscalls = false;
  // [sandbox] broker_syscalls: the worker's own open/stat/mkdir/... calls (libc or raw) are
  // decided by this unit's fs.* rules and performed by the broker (broker/syscalls/).
  std::vector<std::string> syscalls;
  // [sandbox] syscalls: syscall groups (sandbox/syscall_sets.h) and single syscalls no group
  // lists, allowed besides the default groups; each checked at load (refusalOfSyscallName).
  std::shared_ptr<const SeccompProfileSetting> seccompProfile;  // null: none
  WorkerLimits limits;
  UnitResources resources;  // [resources]: the unit's cgroup limits (resources.h)
  LayerStrictness resourcesEnforcement = LayerStrictness::REQUIRED;
  // [sandbox] resources: REQUIRED stops the unit when the machine cannot enforce a limit it sets;
  // BEST_EFFORT (justified) runs it without that limit, logged and on record.
  SourceLocation resourcesWhere;  // of the [resources] table; empty file when absent
  std::shared_ptr<const TypedInterface> typedInterface;
  // [unit] interface: the Cap'n Proto interface hosts may call besides `call`; null if none.
  std::vector<Rule> rules;
  UnitMode mode = UnitMode::ENFORCE;
  std::vector<Rule> learnGrants;
  // LEARN only: what learning may perform, as allow rules built by the loader from learn_paths
  // (one per fs.* operation and pattern; read-only beneath a system directory) and learn_hosts
  // (one net.connect rule, every port). Never matched as rules: a decision that lands in one is
  // a "learn", naming the rule that denied it (decide.h).
  std::string learnJustification;  // [unit] justification: why this unit learns
  SourceLocation modeWhere;        // of [unit] mode; an empty file when absent
  bool learning() const { return mode == UnitMode::LEARN; }
  std::string file;      // the policy file it came from
  SourceLocation where;  // of the `name` value in [unit]

  std::shared_ptr<const FsRuleIndex> fsIndex;
  // Built from `rules` by the loader (indexRules); decisions use it when set and scan otherwise.

  uint32_t allowedOperations = 0;
  // One bit per Operation that at least one allow rule names (indexRules): which worker
  // capabilities a call carries, answered without scanning the rules on every call.
  bool allowsAny(Operation op) const {
    return allowedOperations & (1u << static_cast<uint8_t>(op));
  }
  bool allowsAnyFs() const;  // an allow rule of some fs.* operation: the `fs` capability

  std::shared_ptr<const std::string> revision;
  // The revision of the policy set this unit was loaded with (revision.h's stampRevision), shared
  // by every unit of the set and stamped on each decision record; null until stamped.
};

// Broker-wide settings: the [broker] table of the one policy file that holds it instead of a unit.
struct BrokerSettings {
  std::vector<std::string> admins;  // client identities that may reload and see status
  SourceLocation where;             // of [broker]; an empty file when no file has one

  bool isAdmin(std::string_view client) const;
};

// Builds `unit.fsIndex` and `unit.allowedOperations` from its rules. Call again after changing
// `unit.rules`.
void indexRules(UnitPolicy& unit);

}  // namespace airlock::policy

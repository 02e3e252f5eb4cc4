#include "broker/caps/fs.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <kj/debug.h>

#include <cerrno>

#include "broker/caps/at_beneath.h"
#include "broker/caps/file_server.h"
#include "broker/caps/fs_request.h"
#include "broker/caps/granted_descriptor.h"
#include "broker/caps/open_beneath.h"
#include "broker/caps/wire_modes.h"
#include "broker/caps/worker_requests.h"
#include "broker/policy/decide/decide.h"
#include "broker/policy/model/printable.h"

namespace airlock::broker {

namespace _ {

// Names fs.createTemp tries before it gives up: with 62^12 names, a clash even once means someone
// is creating the same names on purpose.
constexpr int MAX_TEMP_ATTEMPTS = 8;
constexpr size_t TEMP_SUFFIX_CHARS = 12;

// A worker's path quoted in a reason: escaped and cut, as decide.cc quotes request text.
constexpr size_t MAX_QUOTED_BYTES = 256;

bool isDirectory(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

policy::Decision refusedByDefault(std::string reason) {
  return policy::Decision{policy::Verdict::DENY, std::string(policy::DEFAULT_DENY_RULE_ID),
                          std::move(reason), nullptr};
}

// The act step of an allowed open: beneath the deciding rule's root, or from the host's file when
// a descriptor grant decided (the path is then only the grant's name for it). An escape the
// kernel finds turns `decision` into a deny by the same rule.
OpenBeneathResult openAllowed(CallScope& scope, policy::Decision& decision,
                              const audit::AuditRecord& record, const std::string& path,
                              policy::OpenModes modes, Creation creation) {
  OpenBeneathResult opened;
  opened.message = scope.heldFds->refusal().why();
  if (!opened.message.empty()) return opened;  // before acting: nothing created, nothing opened
  const policy::DescriptorGrant* granted = nullptr;
  if (decision.grant >= 0) {
    const policy::CallGrant& grant = scope.grants[static_cast<size_t>(decision.grant)];
    if (grant.descriptor) granted = &*grant.descriptor;
  }
  const std::string& root = decision.rule->fs().path.root();
  int rootFd = granted != nullptr ? -1 : scope.roots.find(root, opened.message);
  if (granted == nullptr && rootFd < 0) return opened;
  // An open that may create, write or truncate changes the tree: on record first.
  bool changes = modes.has(policy::OpenMode::WRITE) || modes.has(policy::OpenMode::CREATE) ||
                 modes.has(policy::OpenMode::TRUNCATE) || modes.has(policy::OpenMode::APPEND);
  if (changes && !recordAdmitted(scope.audit, record, decision)) {
    opened.message = NOT_RECORDED;
    return opened;
  }
  opened = granted != nullptr ? reopenGrantedDescriptor(*granted, modes)
                               : openBeneath(rootFd, relativeTo(root, path), modes, creation);
  if (opened.escapeRefused()) denyEscape(decision, opened.message);
  if (opened.ok() && !scope.landlocked && isDirectory(opened.fd.get())) {
    // Closed here: the worker never holds it.
    opened = OpenBeneathResult{};
    opened.message = "a directory is never handed to a worker running without Landlock "
                     "(landlock = \"best-effort\" on a kernel without it): openat(2) through it "
                     "would reach past every rule";
    decision.verdict = policy::Verdict::DENY;
    decision.reason = "rule matched, but " + opened.message;
  }
  return opened;
}

// A random [A-Za-z0-9]{TEMP_SUFFIX_CHARS} from getrandom(2), which never fails for this size
// once the pool is initialised (it is, long before airlockd serves calls).
std::string randomSuffix() {
  static constexpr char ALPHABET[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char bytes[TEMP_SUFFIX_CHARS];
  KJ_SYSCALL(getrandom(bytes, sizeof(bytes), 0), "random name for fs.createTemp");
  std::string out;
  // 256 % 62 skews a few letters by under 2%: the name must be unguessable-ish and unique
  // (O_EXCL guarantees the latter), not uniform.
  for (unsigned char b : bytes) out += ALPHABET[b % (sizeof(ALPHABET) - 1)];
  return out;
}

const char* specialFileName(rpc::SpecialFile kind) {
  switch (kind) {
    case rpc::SpecialFile::CHARACTER_DEVICE: return "character-device";
    case rpc::SpecialFile::BLOCK_DEVICE: return "block-device";
    case rpc::SpecialFile::FIFO: return "fifo";
    case rpc::SpecialFile::SOCKET: return "socket";
  }
  return "unknown";  // a kind newer than this broker: refused all the same
}

}  // namespace _

kj::Promise<void> FsServer::open(OpenContext context) {
  // Receive: copy what the worker sent before deciding anything on it.
  auto params = context.getParams();
  std::string path = requestPath(params.getPath());
  policy::OpenModes modes = openModesFrom(params.getMode());
  bool exclusive = params.getMode().getExclusive();

  auto record = scope_->record(std::string(requests::FS_OPEN.event));
  record.args["path"] = path;
  record.args["mode"] = modes.describe() + (exclusive ? ",exclusive" : "");

  // Decide.
  policy::Decision decision = [&]() {
    if (exclusive && !modes.has(policy::OpenMode::CREATE)) {
      return _::refusedByDefault("malformed fs.open of " +
                                 policy::printable(path, _::MAX_QUOTED_BYTES) +
                                 ": exclusive needs create among the modes");
    }
    return policy::decideFsOpen(scope_->unit, path, modes, scope_->grants);
  }();

  // Act.
  OpenBeneathResult opened;
  if (decision.allowed()) {
    opened = _::openAllowed(*scope_, decision, record, path, modes,
                            exclusive ? Creation::EXCLUSIVE : Creation::MAY_EXIST);
  }

  // Audit, before anything reaches the worker; reply.
  auto result = context.getResults().initResult();
  std::string failure = opened.ok() ? "" : opened.message;
  if (!auditAndAnswerRefusal(*scope_, record, decision, failure, "fd passed", result)) {
    result.setFile(kj::heap<FileServer>(kj::mv(opened.fd), kj::addRef(*scope_)));
  }
  return kj::READY_NOW;
}

kj::Promise<void> FsServer::createTemp(CreateTempContext context) {
  // Receive.
  auto params = context.getParams();
  std::string directory = requestPath(params.getDirectory());
  auto prefixText = params.getPrefix();
  std::string prefix(prefixText.begin(),
                     kj::min(prefixText.size(), policy::MAX_TEMP_PREFIX_BYTES + 1));
  policy::OpenModes modes;
  for (auto mode : {policy::OpenMode::READ, policy::OpenMode::WRITE, policy::OpenMode::CREATE}) {
    modes.add(mode);
  }
  auto record = scope_->record(std::string(requests::FS_CREATE_TEMP.event));
  record.args["directory"] = directory;
  record.args["prefix"] = prefix;
  record.args["mode"] = modes.describe();

  // Decide and act, once per name tried: each name is its own fs.open decision.
  policy::Decision decision;
  OpenBeneathResult opened;
  std::string path;
  policy::Refusal refused = policy::validateTempPrefix(prefix);
  if (refused.refuses()) {
    decision = _::refusedByDefault("refused fs.createTemp in " +
                                   policy::printable(directory, _::MAX_QUOTED_BYTES) + ": " +
                                   refused.why());
  }
  for (int attempt = 0; !refused.refuses() && attempt < _::MAX_TEMP_ATTEMPTS; ++attempt) {
    path = directory + "/" + prefix + _::randomSuffix();
    decision = policy::decideFsOpen(scope_->unit, path, modes);
    if (!decision.allowed()) break;
    record.args["path"] = path;
    opened = _::openAllowed(*scope_, decision, record, path, modes, Creation::EXCLUSIVE);
    if (opened.error != EEXIST) break;
  }
  record.args["path"] = path;

  // Audit; reply.
  auto result = context.getResults().initResult();
  std::string failure = opened.ok() ? "" : opened.message;
  if (!auditAndAnswerRefusal(*scope_, record, decision, failure, "fd passed", result)) {
    auto created = result.initCreated();
    created.setPath(path);
    created.setFile(kj::heap<FileServer>(kj::mv(opened.fd), kj::addRef(*scope_)));
  }
  return kj::READY_NOW;
}

kj::Promise<void> FsServer::mknod(MknodContext context) {
  auto params = context.getParams();
  std::string path = requestPath(params.getPath());
  auto record = scope_->record(std::string(requests::FS_MKNOD.event));
  record.args["path"] = path;
  record.args["kind"] = _::specialFileName(params.getKind());

  // No rule can allow it, so no operation exists for it: the implicit rule decides, always.
  policy::Decision decision =
      _::refusedByDefault("the broker never creates device nodes, FIFOs or sockets");
  auditAndAnswerRefusal(*scope_, record, decision, "", "", context.getResults().initResult());
  return kj::READY_NOW;
}

}  // namespace airlock::broker

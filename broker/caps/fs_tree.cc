// FsServer's calls that look at or change the tree (fs.h): stat, list, mkdir, unlink, rename,
// symlink. Each acts on the last component of its path in a parent opened beneath the deciding
// rule's root (at_beneath.h).

#include <kj/debug.h>

#include "broker/caps/at_beneath.h"
#include "broker/caps/fs.h"
#include "broker/caps/fs_request.h"
#include "broker/caps/moved_links.h"
#include "broker/caps/worker_requests.h"
#include "broker/policy/decide/decide.h"

namespace airlock::broker {

namespace _ {
namespace {

// One request's decision and what acting on it found.
struct PathAct {
  policy::Decision decision;
  std::string failure;  // allowed, but the act failed: the message for the worker and the record
};

// The parent of `path` beneath the allowed decision's root; null (with `act` saying why: an
// escape denies, anything else fails) if the decision denies or the parent cannot be opened.
kj::Maybe<ParentDir> parentFor(const CallScope& scope, PathAct& act, const std::string& path) {
  if (!act.decision.allowed() || !act.failure.empty()) return nullptr;
  const std::string& root = act.decision.rule->fs().path.root();
  int rootFd = scope.roots.find(root, act.failure);
  if (rootFd < 0) return nullptr;
  ParentDir parent = openParentBeneath(rootFd, relativeTo(root, path));
  if (parent.outcome.escapeRefused()) {
    denyEscape(act.decision, parent.outcome.message);
    return nullptr;
  }
  if (!parent.outcome.ok()) {
    act.failure = parent.outcome.message;
    return nullptr;
  }
  return kj::mv(parent);
}

// The record step before a change: false (and `act` failed) if the log did not take it.
bool admitChange(CallScope& scope, const audit::AuditRecord& record, PathAct& act) {
  if (recordAdmitted(scope.audit, record, act.decision)) return true;
  act.failure = NOT_RECORDED;
  return false;
}

// Folds one syscall's outcome into the request: an escape denies, another error fails.
void settle(PathAct& act, const AtOutcome& outcome) {
  if (outcome.escapeRefused()) {
    denyEscape(act.decision, outcome.message);
  } else if (!outcome.ok()) {
    act.failure = outcome.message;
  }
}

// Before an allowed rename acts: every symlink it would move must still point beneath the rule's
// root from where it lands (moved_links.h). One that would not, or a tree past the walk's bound,
// denies by the rename's rule; a failed look fails the request. True if the rename may act.
bool movedLinksStayBeneath(PathAct& act, const ParentDir& source, const std::string& from,
                           const std::string& to) {
  MovedLinks moved = checkMovedLinks(source, act.decision.rule->fs().path.root(), from, to);
  settle(act, moved.outcome);
  if (act.decision.allowed() && moved.refusal) denyMove(act.decision, moved.refusal.why());
  return act.decision.allowed() && act.failure.empty();
}

// Receive and decide for the operations whose only argument is one path.
PathAct decidePath(const CallScope& scope, policy::Operation op, const std::string& path) {
  return PathAct{policy::decideFsPath(scope.unit, op, path), ""};
}

rpc::FileType fileTypeOf(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return rpc::FileType::REGULAR;
    case S_IFDIR: return rpc::FileType::DIRECTORY;
    case S_IFLNK: return rpc::FileType::SYMLINK;
    default: return rpc::FileType::OTHER;
  }
}

// mkdir and unlink: one path, one change, answered done. The event is the operation's name.
template <typename Context>
void changeOnePath(CallScope& scope, Context& context, policy::Operation op,
                   AtOutcome (*change)(const ParentDir&), const char* doneResult) {
  std::string path = requestPath(context.getParams().getPath());
  auto record = scope.record(std::string(fsPathRequest(op).event));
  record.args["path"] = path;
  PathAct act = decidePath(scope, op, path);
  KJ_IF_MAYBE(parent, parentFor(scope, act, path)) {
    if (admitChange(scope, record, act)) settle(act, change(*parent));
  }
  auto result = context.getResults().initResult();
  if (!auditAndAnswerRefusal(scope, record, act.decision, act.failure, doneResult, result)) {
    result.setDone();
  }
}

}  // namespace
}  // namespace _

kj::Promise<void> FsServer::stat(StatContext context) {
  std::string path = requestPath(context.getParams().getPath());
  auto record = scope_->record(std::string(requests::FS_STAT.event));
  record.args["path"] = path;
  _::PathAct act = _::decidePath(*scope_, policy::Operation::FS_STAT, path);
  struct stat st;
  KJ_IF_MAYBE(parent, _::parentFor(*scope_, act, path)) { _::settle(act, statAt(*parent, st)); }
  auto result = context.getResults().initResult();
  if (!auditAndAnswerRefusal(*scope_, record, act.decision, act.failure, "stat passed", result)) {
    auto info = result.initInfo();
    info.setType(_::fileTypeOf(st.st_mode));
    info.setSize(static_cast<uint64_t>(st.st_size));
    info.setPermissions(st.st_mode & 07777);
    info.setModifiedNs(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
  }
  return kj::READY_NOW;
}

kj::Promise<void> FsServer::list(ListContext context) {
  std::string path = requestPath(context.getParams().getPath());
  auto record = scope_->record(std::string(requests::FS_LIST.event));
  record.args["path"] = path;
  _::PathAct act = _::decidePath(*scope_, policy::Operation::FS_LIST, path);
  std::vector<ListedEntry> entries;
  KJ_IF_MAYBE(parent, _::parentFor(*scope_, act, path)) { _::settle(act, listAt(*parent, entries)); }
  auto result = context.getResults().initResult();
  std::string listed = std::to_string(entries.size()) + " entries passed";
  if (!auditAndAnswerRefusal(*scope_, record, act.decision, act.failure, listed, result)) {
    auto list = result.initEntries(static_cast<uint>(entries.size()));
    for (uint i = 0; i < entries.size(); ++i) {
      list[i].setName(entries[i].name);
      list[i].setType(_::fileTypeOf(entries[i].type));
    }
  }
  return kj::READY_NOW;
}

kj::Promise<void> FsServer::mkdir(MkdirContext context) {
  _::changeOnePath(
      *scope_, context, policy::Operation::FS_MKDIR,
      [](const ParentDir& parent) { return mkdirAt(parent); }, "created");
  return kj::READY_NOW;
}

kj::Promise<void> FsServer::unlink(UnlinkContext context) {
  _::changeOnePath(*scope_, context, policy::Operation::FS_UNLINK, unlinkAt, "removed");
  return kj::READY_NOW;
}

kj::Promise<void> FsServer::rename(RenameContext context) {
  auto params = context.getParams();
  std::string from = requestPath(params.getFrom()), to = requestPath(params.getTo());
  auto record = scope_->record(std::string(requests::FS_RENAME.event));
  record.args["from"] = from;
  record.args["to"] = to;
  // Both allowed beneath one root (decideFsRename), so both parents open beneath that root.
  _::PathAct act{policy::decideFsRename(scope_->unit, from, to), ""};
  KJ_IF_MAYBE(source, _::parentFor(*scope_, act, from)) {
    KJ_IF_MAYBE(target, _::parentFor(*scope_, act, to)) {
      if (_::movedLinksStayBeneath(act, *source, from, to) &&
          _::admitChange(*scope_, record, act)) {
        _::settle(act, renameAt(*source, *target));
      }
    }
  }
  auto result = context.getResults().initResult();
  if (!auditAndAnswerRefusal(*scope_, record, act.decision, act.failure, "renamed", result)) {
    result.setDone();
  }
  return kj::READY_NOW;
}

kj::Promise<void> FsServer::symlink(SymlinkContext context) {
  auto params = context.getParams();
  std::string target = requestPath(params.getTarget()), path = requestPath(params.getPath());
  auto record = scope_->record(std::string(requests::FS_SYMLINK.event));
  record.args["path"] = path;
  record.args["target"] = target;
  _::PathAct act{policy::decideFsSymlink(scope_->unit, path, target), ""};
  KJ_IF_MAYBE(parent, _::parentFor(*scope_, act, path)) {
    if (_::admitChange(*scope_, record, act)) _::settle(act, symlinkAt(target, *parent));
  }
  auto result = context.getResults().initResult();
  if (!auditAndAnswerRefusal(*scope_, record, act.decision, act.failure, "created", result)) {
    result.setDone();
  }
  return kj::READY_NOW;
}

}  // namespace airlock::broker

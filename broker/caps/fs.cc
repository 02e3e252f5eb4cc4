#include "broker/caps/fs.h"

#include <kj/debug.h>

#include "broker/caps/open_beneath.h"
#include "broker/policy/decide.h"

namespace airlock::broker {

namespace _ {

// Longest path a worker may send; longer requests are refused before any policy work.
constexpr size_t MAX_REQUEST_PATH = 4096;

// Passes one opened fd to the worker (Cap'n Proto sends it with the message via SCM_RIGHTS).
class FileServer final : public rpc::File::Server {
 public:
  explicit FileServer(kj::AutoCloseFd fd) : fd_(kj::mv(fd)) {}
  kj::Maybe<int> getFd() override { return fd_.get(); }

 private:
  kj::AutoCloseFd fd_;
};

policy::OpenModes modesFrom(rpc::OpenMode::Reader mode) {
  policy::OpenModes modes;
  if (mode.getRead()) modes.add(policy::OpenMode::READ);
  if (mode.getWrite()) modes.add(policy::OpenMode::WRITE);
  if (mode.getCreate()) modes.add(policy::OpenMode::CREATE);
  if (mode.getTruncate()) modes.add(policy::OpenMode::TRUNCATE);
  if (mode.getAppend()) modes.add(policy::OpenMode::APPEND);
  return modes;
}

// The part of `path` below `root`: "." for the root itself.
std::string relativeTo(const std::string& root, const std::string& path) {
  if (path.size() == root.size()) return ".";
  size_t skip = root == "/" ? 1 : root.size() + 1;
  return path.substr(skip);
}

}  // namespace _

kj::Promise<void> FsServer::open(OpenContext context) {
  // Receive: copy what the worker sent before deciding anything on it.
  auto params = context.getParams();
  auto pathText = params.getPath();
  std::string path(pathText.begin(), kj::min(pathText.size(), _::MAX_REQUEST_PATH + 1));
  policy::OpenModes modes = _::modesFrom(params.getMode());

  auto record = scope_->record("fs.open");
  record.args["path"] = path;
  record.args["mode"] = modes.describe();

  // Decide.
  policy::Decision decision = scope_->decideUnlessExpired(
      [&]() { return policy::decideFsOpen(scope_->unit, path, modes); });

  // Act.
  OpenBeneathResult opened;
  if (decision.allowed()) {
    const std::string& root = decision.rule->path.root();
    std::string why;
    int rootFd = scope_->roots.find(root, why);
    if (rootFd < 0) {
      opened.message = why;
    } else {
      opened = openBeneath(rootFd, _::relativeTo(root, path), modes);
      if (opened.escapeRefused()) {
        // The rule matched the path text, but the kernel found the path leaves the grant.
        decision.verdict = policy::Verdict::DENY;
        decision.reason = "rule matched, but resolving beneath " + root + " refused it: " +
                          opened.message;
      }
    }
  }

  // Audit, before anything reaches the worker.
  recordDecision(record, decision);
  record.result = !decision.allowed() ? "refused" : opened.ok() ? "fd passed" : opened.message;
  bool audited = scope_->audit.append(record);

  // Reply.
  auto result = context.getResults().initResult();
  KJ_IF_MAYBE(refusal, refusalAnswer(audited, decision)) {
    result.setDenied(*refusal);
  } else if (!opened.ok()) {
    result.setFailed(opened.message);
  } else {
    result.setFile(kj::heap<_::FileServer>(kj::mv(opened.fd)));
  }
  return kj::READY_NOW;
}

}  // namespace airlock::broker

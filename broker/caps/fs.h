#pragma once
// fs.* for workers: the broker-side `Fs` capability. Handed to a worker only with a call, and
// only if its unit's policy has an allow rule of some fs.* operation (UnitPolicy::allowsAnyFs).
//
// Every method reads in one sitting: receive (copy the worker's text, bounded) -> decide (the
// pure policy function of its operation) -> act (beneath the deciding rule's root: open_beneath.h,
// at_beneath.h; a symlink or escape the kernel finds turns the allow into a deny by the same rule,
// as does a rename that would leave a link it moves pointing out of that root: moved_links.h)
// -> audit (one record per request, event fs.open, fs.stat, ..., fs.create_temp) -> reply. A
// request that changes the tree (mkdir, unlink, rename, symlink, an open that may create, write,
// truncate or append, createTemp) is recorded before it acts, as `<event>.admitted`
// (fs_request.h): if the log refuses that record nothing is changed. A failed append of the
// final record answers a refusal: an opened fd is closed unseen.
// Broker-side, event-loop thread only.

#include <kj/refcount.h>

#include <airlock/capnp/worker.capnp.h>

#include "broker/caps/call_scope.h"

namespace airlock::broker {

class FsServer final : public rpc::Fs::Server {
 public:
  explicit FsServer(kj::Own<CallScope> scope) : scope_(kj::mv(scope)) {}

  // fs.cc: the calls that pass an fd, and the one always refused.
  kj::Promise<void> open(OpenContext context) override;
  // `exclusive` without `create` is a malformed request, denied by default-deny.
  kj::Promise<void> createTemp(CreateTempContext context) override;
  // Decided as fs.open of the new path with read,write,create; the name is `prefix` (checked by
  // policy::validateTempPrefix) and 12 random characters, made with O_EXCL (a few attempts).
  kj::Promise<void> mknod(MknodContext context) override;
  // Always denied by default-deny, and audited.

  // fs_tree.cc: the calls that look at or change the tree.
  kj::Promise<void> stat(StatContext context) override;
  kj::Promise<void> list(ListContext context) override;
  kj::Promise<void> mkdir(MkdirContext context) override;
  kj::Promise<void> unlink(UnlinkContext context) override;
  kj::Promise<void> rename(RenameContext context) override;
  kj::Promise<void> symlink(SymlinkContext context) override;

 private:
  kj::Own<CallScope> scope_;
};

}  // namespace airlock::broker

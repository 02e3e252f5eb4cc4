#pragma once
// The `File` capability: carries one descriptor the broker opened (a file for fs.*, a connected
// socket for net.connect, a sealed memfd for secrets.get) to the worker. Cap'n Proto sends the fd
// with the message that carries the capability (SCM_RIGHTS); the worker reads it with getFd().
// The fd stays open here until the worker releases the capability, and counts against that
// worker's HeldFds meanwhile.

#include <kj/io.h>

#include <airlock/capnp/worker.capnp.h>

#include "broker/caps/call_scope.h"
#include "broker/caps/held_fds.h"

namespace airlock::broker {

class FileServer final : public rpc::File::Server {
 public:
  // `scope`: the call it was handed out in, whose worker's HeldFds it counts against and under
  // whose call id a call on it is refused (it offers no method: unknown_method.h).
  FileServer(kj::AutoCloseFd fd, kj::Own<CallScope> scope)
      : fd_(kj::mv(fd)), scope_(kj::mv(scope)) {
    scope_->heldFds->take();
  }
  ~FileServer() noexcept(false) { scope_->heldFds->give(); }
  kj::Maybe<int> getFd() override { return fd_.get(); }

  DispatchCallResult dispatchCall(uint64_t interfaceId, uint16_t methodId,
                                  capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context)
      override;

 private:
  kj::AutoCloseFd fd_;
  kj::Own<CallScope> scope_;
};

}  // namespace airlock::broker

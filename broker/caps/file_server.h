#pragma once
// The `File` capability: carries one descriptor the broker opened (a file for fs.*, a connected
// socket for net.connect, a sealed memfd for secrets.get) to the worker. Cap'n Proto sends the fd
// with the message that carries the capability (SCM_RIGHTS); the worker reads it with getFd().
// The fd stays open here until the worker releases the capability, and counts against that
// worker's HeldFds meanwhile.

#include <kj/io.h>

#include <airlock/capnp/worker.capnp.h>

#include "broker/caps/held_fds.h"

namespace airlock::broker {

class FileServer final : public rpc::File::Server {
 public:
  FileServer(kj::AutoCloseFd fd, kj::Own<HeldFds> held) : fd_(kj::mv(fd)), held_(kj::mv(held)) {
    held_->take();
  }
  ~FileServer() noexcept(false) { held_->give(); }
  kj::Maybe<int> getFd() override { return fd_.get(); }

 private:
  kj::AutoCloseFd fd_;
  kj::Own<HeldFds> held_;
};

}  // namespace airlock::broker

#pragma once
// The `File` capability: carries one descriptor the broker opened (a file for fs.*, a connected
// socket for net.connect) to the worker. Cap'n Proto sends the fd with the message that carries
// the capability (SCM_RIGHTS); the worker reads it with getFd().

#include <kj/io.h>

#include <airlock/capnp/worker.capnp.h>

namespace airlock::broker {

class FileServer final : public rpc::File::Server {
 public:
  explicit FileServer(kj::AutoCloseFd fd) : fd_(kj::mv(fd)) {}
  kj::Maybe<int> getFd() override { return fd_.get(); }

 private:
  kj::AutoCloseFd fd_;
};

}  // namespace airlock::broker

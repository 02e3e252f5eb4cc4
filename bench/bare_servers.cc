#include "bench/bare_servers.h"

#include <fcntl.h>
#include <unistd.h>

#include <airlock/capnp/host.capnp.h>
#include <airlock/capnp/worker.capnp.h>
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

namespace airlock::bench {

namespace {

class EchoUnit final : public rpc::Unit::Server {
 public:
  kj::Promise<void> call(CallContext context) override {
    context.getResults().initResult().setOk(context.getParams().getPayload());
    return kj::READY_NOW;
  }
};

class FileServer final : public rpc::File::Server {
 public:
  explicit FileServer(kj::AutoCloseFd fd) : fd_(kj::mv(fd)) {}
  kj::Maybe<int> getFd() override { return fd_.get(); }

 private:
  kj::AutoCloseFd fd_;
};

class OpeningFs final : public rpc::Fs::Server {
 public:
  kj::Promise<void> open(OpenContext context) override {
    int fd = ::open(context.getParams().getPath().cStr(), O_RDONLY | O_CLOEXEC);
    auto result = context.getResults().initResult();
    if (fd < 0) {
      result.setFailed("open failed");
    } else {
      result.setFile(kj::heap<FileServer>(kj::AutoCloseFd(fd)));
    }
    return kj::READY_NOW;
  }
};

// Serves `bootstrap` on `socket` until the peer disconnects. Runs in the forked child.
int serve(int socket, capnp::Capability::Client bootstrap) {
  auto io = kj::setupAsyncIo();
  auto stream = io.lowLevelProvider->wrapUnixSocketFd(socket);
  capnp::TwoPartyVatNetwork network(*stream, 1, capnp::rpc::twoparty::Side::SERVER);
  auto rpc = capnp::makeRpcServer(network, kj::mv(bootstrap));
  network.onDisconnect().wait(io.waitScope);
  return 0;
}

}  // namespace

ChildProcess startRawEcho(kj::AutoCloseFd socket) {
  int fd = socket.get();
  ChildProcess child([fd]() {
    char buffer[64];
    for (;;) {
      ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n <= 0) return 0;
      if (write(fd, buffer, n) != n) return 1;
    }
  });
  return child;  // the parent's copy of `socket` closes here
}

ChildProcess startBareUnit(kj::AutoCloseFd socket) {
  int fd = socket.get();
  return ChildProcess([fd]() { return serve(fd, kj::heap<EchoUnit>()); });
}

ChildProcess startBareFs(kj::AutoCloseFd socket) {
  int fd = socket.get();
  return ChildProcess([fd]() { return serve(fd, kj::heap<OpeningFs>()); });
}

}  // namespace airlock::bench

#include "bench/bare_servers.h"

#include <fcntl.h>
#include <unistd.h>

#include <airlock/capnp/host.capnp.h>
#include <airlock/capnp/worker.capnp.h>
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/debug.h>

#include "capnp/socket_stream.h"

namespace airlock::bench {

namespace {

class EchoUnit final : public rpc::Unit::Server {
 public:
  kj::Promise<void> call(CallContext context) override {
    context.getResults().initResult().setOk(context.getParams().getPayload());
    return kj::READY_NOW;
  }
};

// Makes a new call of its own on `onward` for each call and copies the result into its answer, as a
// mediator must, rather than tail-calling: a tail call would let Cap'n Proto answer the host with a
// reference to the onward question, so the relay would never hold the answer it passes on.
class RelayUnit final : public rpc::Unit::Server {
 public:
  explicit RelayUnit(rpc::Unit::Client onward) : onward_(kj::mv(onward)) {}

  kj::Promise<void> call(CallContext context) override {
    auto params = context.getParams();
    auto request = onward_.callRequest();
    request.setMethod(params.getMethod());
    request.setPayload(params.getPayload());
    request.setTimeoutMs(params.getTimeoutMs());
    return request.send().then(
        [context](capnp::Response<rpc::Unit::CallResults>&& response) mutable {
          context.getResults().setResult(response.getResult());
        });
  }

 private:
  rpc::Unit::Client onward_;
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

// Serves `bootstrap` on `socket` until the peer disconnects. Runs in the forked child. `passesFds`:
// on kj's stream, which the fd-passing exchanges keep (their brokered side is compared as it was).
int serve(int socket, capnp::Capability::Client bootstrap, bool passesFds) {
  auto io = kj::setupAsyncIo();
  auto stream =
      passesFds ? io.lowLevelProvider->wrapUnixSocketFd(socket) : airlockStream(io, socket);
  capnp::TwoPartyVatNetwork network(*stream, 1, capnp::rpc::twoparty::Side::SERVER);
  auto rpc = capnp::makeRpcServer(network, kj::mv(bootstrap));
  network.onDisconnect().wait(io.waitScope);
  return 0;
}

// Relays calls from `hostSide` to the Unit served on `onward` until the host disconnects. Runs
// in the forked child. Both connections are stock Cap'n Proto on airlock's stream, as the bare
// server's and airlock-bench's own client are.
int relay(int hostSide, int onward) {
  auto io = kj::setupAsyncIo();
  auto onwardStream = airlockStream(io, onward);
  capnp::TwoPartyClient onwardClient(*onwardStream);
  auto server = onwardClient.bootstrap().castAs<rpc::Unit>();
  auto hostStream = airlockStream(io, hostSide);
  capnp::TwoPartyVatNetwork network(*hostStream, 1, capnp::rpc::twoparty::Side::SERVER);
  auto rpc = capnp::makeRpcServer(network, kj::heap<RelayUnit>(kj::mv(server)));
  network.onDisconnect().wait(io.waitScope);
  return 0;
}

}  // namespace

kj::Own<kj::AsyncCapabilityStream> airlockStream(kj::AsyncIoContext& io, int fd) {
  int copy;
  KJ_SYSCALL(copy = fcntl(fd, F_DUPFD_CLOEXEC, 0), "dup of a benchmark socket");
  return kj::heap<rpc::SocketStream>(io.unixEventPort, kj::AutoCloseFd(copy), rpc::Fds::REFUSED);
}

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
  return ChildProcess([fd]() { return serve(fd, kj::heap<EchoUnit>(), false); });
}

ChildProcess startBareRelay(kj::AutoCloseFd hostSide, kj::AutoCloseFd onward) {
  int hostFd = hostSide.get();
  int onwardFd = onward.get();
  return ChildProcess([hostFd, onwardFd]() { return relay(hostFd, onwardFd); });
}

ChildProcess startBareFs(kj::AutoCloseFd socket) {
  int fd = socket.get();
  return ChildProcess([fd]() { return serve(fd, kj::heap<OpeningFs>(), true); });
}

}  // namespace airlock::bench

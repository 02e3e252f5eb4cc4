#include "bench/sandboxed_relay.h"

#include <sys/socket.h>

#include <airlock/capnp/host.capnp.h>
#include <airlock/capnp/worker.capnp.h>
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <kj/debug.h>

#include "bench/bare_servers.h"
#include "bench/broker_runner.h"
#include "broker/policy/load/policy_loader.h"
#include "broker/supervisor/unit_sandbox.h"
#include "capnp/socket_stream.h"

namespace airlock::bench {

namespace {

// Sends each host call on to the worker as a new Worker.call, with no capabilities, and copies
// the worker's answer into the host's, as airlockd's dispatch does (broker/calls/dispatch.cc)
// without admission, decision, audit, capabilities, CPU accounting or deadline.
class RelayToWorker final : public rpc::Unit::Server {
 public:
  explicit RelayToWorker(rpc::Worker::Client worker) : worker_(kj::mv(worker)) {}

  kj::Promise<void> call(CallContext context) override {
    auto params = context.getParams();
    auto request = worker_.callRequest();
    request.setMethod(params.getMethod());
    request.setPayload(params.getPayload());
    request.initCaps();
    return request.send().then(
        [context](capnp::Response<rpc::Worker::CallResults>&& response) mutable {
          auto answer = response.getResult();
          auto result = context.getResults().initResult();
          switch (answer.which()) {
            case rpc::WorkerResult::OK:
              result.setOk(answer.getOk());
              return;
            case rpc::WorkerResult::ERROR: {
              auto error = result.initError();
              error.setKind(rpc::ErrorKind::WORKER_FAILED);
              error.setMessage(answer.getError());
              return;
            }
            case rpc::WorkerResult::NO_SUCH_METHOD:
              result.initError().setKind(rpc::ErrorKind::NO_SUCH_METHOD);
              return;
          }
          result.initError().setKind(rpc::ErrorKind::INTERNAL);
        });
  }

 private:
  rpc::Worker::Client worker_;
};

// Kills the worker at its first refused syscall (serviceSeccomp under the default
// on_refused_syscall): a refusing worker's thread would otherwise stay stopped.
kj::Promise<void> superviseSeccomp(kj::UnixEventPort::FdObserver& observer,
                                   sandbox::SandboxedProcess& worker) {
  return observer.whenBecomesReadable().then([&observer, &worker]() {
    for (const auto& refused : worker.serviceSeccomp()) {
      KJ_LOG(ERROR, "the sandboxed worker was refused a syscall", refused.describe());
    }
    return superviseSeccomp(observer, worker);
  });
}

int relayToWorker(int hostSide, const sandbox::SandboxSpec& spec) {
  int pair[2];
  KJ_SYSCALL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), "worker channel");
  kj::AutoCloseFd relayEnd(pair[0]), workerEnd(pair[1]);
  sandbox::ChildFds fds;
  fds.channel = workerEnd.get();
  sandbox::SandboxedProcess worker = sandbox::launch(spec, fds);
  workerEnd = nullptr;  // the worker holds the only copy now

  auto io = kj::setupAsyncIo();
  kj::UnixEventPort::FdObserver refusals(io.unixEventPort, worker.seccompListenerFd(),
                                         kj::UnixEventPort::FdObserver::OBSERVE_READ);
  auto supervision = superviseSeccomp(refusals, worker).eagerlyEvaluate(nullptr);
  // The worker link as airlockd makes it: airlock's stream, the broker the client side.
  auto workerStream = rpc::wrapSocket(io, kj::mv(relayEnd), rpc::Fds::REFUSED);
  capnp::TwoPartyClient workerClient(*workerStream, 1);
  auto workerCap = workerClient.bootstrap().castAs<rpc::Worker>();
  // airlockd's warm-up (broker/supervisor/worker_process.cc): hello, then a call of no method.
  workerCap.helloRequest().send().wait(io.waitScope);
  auto warm = workerCap.callRequest();
  warm.setMethod("");
  warm.send().wait(io.waitScope);

  auto hostStream = airlockStream(io, hostSide);
  capnp::TwoPartyVatNetwork network(*hostStream, 1, capnp::rpc::twoparty::Side::SERVER);
  auto rpc = capnp::makeRpcServer(network, kj::heap<RelayToWorker>(kj::mv(workerCap)));
  network.onDisconnect().wait(io.waitScope);
  return 0;
}

}  // namespace

sandbox::SandboxSpec benchWorkerSandbox(const std::string& binDir) {
  policy::LoadOptions options;
  options.workersDir = binDir;
  auto loaded = policy::loadPolicyText(
      benchUnitPolicy("bench", 1, "/tmp", RequestPace::UNLIMITED, ""), "bench.toml", options);
  KJ_REQUIRE(loaded.ok() && loaded.units.size() == 1, "the bench unit's policy does not load",
             loaded.errors.empty() ? std::string() : loaded.errors.front().describe());
  return broker::sandboxSpecFor(loaded.units.front());
}

ChildProcess startRelayToSandboxedWorker(kj::AutoCloseFd hostSide, sandbox::SandboxSpec spec) {
  int hostFd = hostSide.get();
  return ChildProcess([hostFd, spec = kj::mv(spec)]() { return relayToWorker(hostFd, spec); });
}

}  // namespace airlock::bench

// A worker with a typed interface (support/typed_probe.capnp) for typed_call_test.cc. Each call
// gets a fresh TypedProbeServer bound to that call's capabilities.

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include <airlock/tests/typed_probe.capnp.h>
#include <kj/debug.h>

#include "sdk/worker/worker.h"

namespace {

using airlock::testing::rpc::TypedProbe;

// The File capabilities holdFiles keeps, across calls, until releaseFiles.
std::vector<airlock::rpc::File::Client>& keptFiles() {
  static std::vector<airlock::rpc::File::Client> kept;
  return kept;
}

class TypedProbeServer final : public TypedProbe::Server {
 public:
  TypedProbeServer(kj::Maybe<airlock::rpc::Fs::Client> fs,
                   kj::Maybe<airlock::rpc::Secrets::Client> secrets)
      : fs_(kj::mv(fs)), secrets_(kj::mv(secrets)) {}

  kj::Promise<void> ping(PingContext context) override {
    context.getResults().setPong("pong");
    return kj::READY_NOW;
  }
  kj::Promise<void> echo(EchoContext context) override {
    context.getResults().setText(context.getParams().getText());
    return kj::READY_NOW;
  }
  kj::Promise<void> leak(LeakContext context) override {
    context.getResults().setProbe(kj::heap<TypedProbeServer>(nullptr, nullptr));
    return kj::READY_NOW;
  }
  kj::Promise<void> take(TakeContext) override { return kj::READY_NOW; }
  kj::Promise<void> crash(CrashContext) override { abort(); }
  kj::Promise<void> fail(FailContext) override {
    KJ_FAIL_REQUIRE("the probe's method failed on purpose");
  }
  kj::Promise<void> readFile(ReadFileContext context) override {
    airlock::rpc::Fs::Client* fs = nullptr;
    KJ_IF_MAYBE(granted, fs_) { fs = granted; }
    KJ_REQUIRE(fs != nullptr, "this call has no fs capability");
    auto request = fs->openRequest();
    request.setPath(context.getParams().getPath());
    request.initMode().setRead(true);
    return request.send().then([context](auto&& response) mutable {
      auto result = response.getResult();
      KJ_REQUIRE(result.isFile(), "the broker refused the open",
                 result.isDenied() ? result.getDenied() : result.getFailed());
      // The fd belongs to the File capability: keep it until the read is done.
      auto file = result.getFile();
      return file.getFd().then([context, file](kj::Maybe<int> fd) mutable {
        KJ_IF_MAYBE(received, fd) {
          char buffer[4096];
          ssize_t n = pread(*received, buffer, sizeof(buffer), 0);
          KJ_SYSCALL(n, "pread of the brokered fd");
          context.getResults().setBytes(
              kj::arrayPtr(reinterpret_cast<const kj::byte*>(buffer), static_cast<size_t>(n)));
          return;
        }
        KJ_FAIL_REQUIRE("the broker's answer carried no fd");
      });
    });
  }
  kj::Promise<void> notGranted(NotGrantedContext) override { return kj::READY_NOW; }
  kj::Promise<void> hold(HoldContext) override { return kj::NEVER_DONE; }
  kj::Promise<void> holdFiles(HoldFilesContext context) override {
    airlock::rpc::Fs::Client* fs = nullptr;
    KJ_IF_MAYBE(granted, fs_) { fs = granted; }
    KJ_REQUIRE(fs != nullptr, "this call has no fs capability");
    auto params = context.getParams();
    auto results = context.getResults();
    results.setOpened(0);
    auto sent = kj::heapArrayBuilder<kj::Promise<void>>(params.getCount());
    for (uint32_t i = 0; i < params.getCount(); ++i) {
      auto request = fs->openRequest();
      request.setPath(params.getPath());
      request.initMode().setRead(true);
      sent.add(request.send().then([results](auto&& response) mutable {
        auto result = response.getResult();
        if (result.isFile()) {
          keptFiles().push_back(result.getFile());
          results.setOpened(results.getOpened() + 1);
        } else if (!results.hasRefusal()) {
          results.setRefusal(result.isFailed() ? result.getFailed() : result.getDenied());
        }
      }));
    }
    return kj::joinPromises(sent.finish()).attach(kj::mv(context));
  }
  kj::Promise<void> releaseFiles(ReleaseFilesContext) override {
    keptFiles().clear();
    return kj::READY_NOW;
  }
  kj::Promise<void> secretAnswer(SecretAnswerContext context) override {
    airlock::rpc::Secrets::Client* secrets = nullptr;
    KJ_IF_MAYBE(granted, secrets_) { secrets = granted; }
    KJ_REQUIRE(secrets != nullptr, "this call has no secrets capability");
    auto request = secrets->getRequest();
    request.setName(context.getParams().getName());
    return request.send().then([context](auto&& response) mutable {
      auto result = response.getResult();
      auto results = context.getResults();
      switch (result.which()) {
        case airlock::rpc::SecretResult::VALUE:
          results.setKind("value");
          results.setBytes(result.getValue());
          return kj::Promise<void>(kj::READY_NOW);
        case airlock::rpc::SecretResult::DENIED: results.setKind("denied"); break;
        case airlock::rpc::SecretResult::FAILED: results.setKind("failed"); break;
        case airlock::rpc::SecretResult::FILE: {
          results.setKind("file");
          auto file = result.getFile();
          return file.getFd().then([context, file](kj::Maybe<int> fd) mutable {
            int received = KJ_REQUIRE_NONNULL(fd, "the broker's answer carried no fd");
            auto results = context.getResults();
            results.setSeals(fcntl(received, F_GET_SEALS));
            char buffer[4096];
            ssize_t n = pread(received, buffer, sizeof(buffer), 0);
            KJ_SYSCALL(n, "pread of the secret's memfd");
            results.setBytes(
                kj::arrayPtr(reinterpret_cast<const kj::byte*>(buffer), static_cast<size_t>(n)));
          });
        }
      }
      return kj::Promise<void>(kj::READY_NOW);
    });
  }
  kj::Promise<void> statFlood(StatFloodContext context) override {
    airlock::rpc::Fs::Client* fs = nullptr;
    KJ_IF_MAYBE(granted, fs_) { fs = granted; }
    KJ_REQUIRE(fs != nullptr, "this call has no fs capability");
    auto params = context.getParams();
    std::string path = "/" + std::string(params.getPathBytes(), 'p');
    auto answered = kj::heap<uint32_t>(0);
    auto counter = answered.get();
    auto sent = kj::heapArrayBuilder<kj::Promise<void>>(params.getCount());
    for (uint32_t i = 0; i < params.getCount(); ++i) {
      auto request = fs->statRequest();
      request.setPath(path);
      sent.add(request.send().then([counter](auto&&) { ++*counter; }));
    }
    return kj::joinPromises(sent.finish())
        .then([context, answered = kj::mv(answered)]() mutable {
          context.getResults().setAnswered(*answered);
        });
  }

 private:
  kj::Maybe<airlock::rpc::Fs::Client> fs_;
  kj::Maybe<airlock::rpc::Secrets::Client> secrets_;
};

}  // namespace

int main(int argc, char** argv) {
  airlock::Worker worker(argc, argv);
  worker.typed([](airlock::rpc::Capabilities::Reader caps) -> capnp::Capability::Client {
    kj::Maybe<airlock::rpc::Fs::Client> fs;
    if (caps.hasFs()) fs = caps.getFs();
    kj::Maybe<airlock::rpc::Secrets::Client> secrets;
    if (caps.hasSecrets()) secrets = caps.getSecrets();
    return kj::heap<TypedProbeServer>(kj::mv(fs), kj::mv(secrets));
  });
  return worker.serve();
}

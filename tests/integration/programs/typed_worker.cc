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

// The fs capability keepFs keeps past its call, for useKeptFs in a later one.
kj::Maybe<airlock::rpc::Fs::Client>& keptFs() {
  static kj::Maybe<airlock::rpc::Fs::Client> kept;
  return kept;
}

// The capabilities of one typed call, each null where the policy grants none.
struct CallCaps {
  kj::Maybe<airlock::rpc::Fs::Client> fs;
  kj::Maybe<airlock::rpc::Secrets::Client> secrets;
  kj::Maybe<airlock::rpc::Net::Client> net;
  kj::Maybe<airlock::rpc::Log::Client> log;
  kj::Maybe<airlock::rpc::Units::Client> units;
};

// The text of a typeless call's failure, or "answered".
kj::Promise<kj::String> outcomeOf(capnp::Request<capnp::AnyPointer, capnp::AnyPointer> request) {
  return request.send().then([](auto&&) { return kj::str("answered"); },
                             [](kj::Exception&& e) { return kj::str(e.getDescription()); });
}

template <typename Interface>
kj::Promise<kj::String> unknownOn(kj::Maybe<typename Interface::Client>& cap, uint64_t interfaceId,
                                  uint16_t methodId) {
  KJ_IF_MAYBE(c, cap) { return outcomeOf(c->typelessRequest(interfaceId, methodId, nullptr)); }
  return kj::str("no such capability in this call");
}

class TypedProbeServer final : public TypedProbe::Server {
 public:
  TypedProbeServer(kj::Maybe<airlock::rpc::Fs::Client> fs,
                   kj::Maybe<airlock::rpc::Secrets::Client> secrets, CallCaps others = {})
      : fs_(kj::mv(fs)), secrets_(kj::mv(secrets)), others_(kj::mv(others)) {}

  kj::Promise<void> keepFs(KeepFsContext) override {
    KJ_IF_MAYBE(fs, fs_) { keptFs() = *fs; }
    return kj::READY_NOW;
  }
  kj::Promise<void> useKeptFs(UseKeptFsContext context) override {
    airlock::rpc::Fs::Client* fs = nullptr;
    KJ_IF_MAYBE(kept, keptFs()) { fs = kept; }
    KJ_REQUIRE(fs != nullptr, "keepFs kept no fs capability");
    auto request = fs->statRequest();
    request.setPath(context.getParams().getPath());
    return request.send().then(
        [context](auto&&) mutable { context.getResults().setAnswer("answered"); },
        [context](kj::Exception&& e) mutable {
          context.getResults().setAnswer(e.getDescription().cStr());
        });
  }

  kj::Promise<void> readWithKeptFs(ReadWithKeptFsContext context) override {
    airlock::rpc::Fs::Client* fs = nullptr;
    KJ_IF_MAYBE(kept, keptFs()) { fs = kept; }
    KJ_REQUIRE(fs != nullptr, "keepFs kept no fs capability");
    auto request = fs->openRequest();
    request.setPath(context.getParams().getPath());
    request.initMode().setRead(true);
    return request.send().then(
        [context](auto&& response) mutable {
          auto result = response.getResult();
          context.getResults().setAnswer(result.isFile() ? "opened" : "refused");
        },
        [context](kj::Exception&& e) mutable {
          context.getResults().setAnswer(e.getDescription().cStr());
        });
  }

  kj::Promise<void> callUnknown(CallUnknownContext context) override {
    using namespace airlock::rpc;
    std::string which = context.getParams().getCapability();
    kj::Promise<kj::String> answer = kj::str("unknown capability name");
    if (which == "fs") answer = unknownOn<Fs>(fs_, capnp::typeId<Fs>(), 99);
    if (which == "fs-as-net") answer = unknownOn<Fs>(fs_, capnp::typeId<Net>(), 0);
    if (which == "secrets") answer = unknownOn<Secrets>(secrets_, capnp::typeId<Secrets>(), 99);
    if (which == "net") answer = unknownOn<Net>(others_.net, capnp::typeId<Net>(), 99);
    if (which == "log") answer = unknownOn<Log>(others_.log, capnp::typeId<Log>(), 99);
    if (which == "units") answer = unknownOn<Units>(others_.units, capnp::typeId<Units>(), 99);
    if (which == "file") {
      Fs::Client* fs = nullptr;
      KJ_IF_MAYBE(granted, fs_) { fs = granted; }
      KJ_REQUIRE(fs != nullptr, "this call has no fs capability");
      auto open = fs->openRequest();
      open.setPath(context.getParams().getPath());
      open.initMode().setRead(true);
      answer = open.send().then([](auto&& response) -> kj::Promise<kj::String> {
        auto result = response.getResult();
        KJ_REQUIRE(result.isFile(), "the broker refused the open");
        return outcomeOf(result.getFile().typelessRequest(capnp::typeId<File>(), 0, nullptr));
      });
    }
    return answer.then([context](kj::String text) mutable {
      context.getResults().setAnswer(text);
    });
  }

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
  CallCaps others_;
};

}  // namespace

int main(int argc, char** argv) {
  airlock::Worker worker(argc, argv);
  worker.typed([](airlock::rpc::Capabilities::Reader caps) -> capnp::Capability::Client {
    kj::Maybe<airlock::rpc::Fs::Client> fs;
    if (caps.hasFs()) fs = caps.getFs();
    kj::Maybe<airlock::rpc::Secrets::Client> secrets;
    if (caps.hasSecrets()) secrets = caps.getSecrets();
    CallCaps others;
    if (caps.hasNet()) others.net = caps.getNet();
    if (caps.hasLog()) others.log = caps.getLog();
    if (caps.hasUnits()) others.units = caps.getUnits();
    return kj::heap<TypedProbeServer>(kj::mv(fs), kj::mv(secrets), kj::mv(others));
  });
  return worker.serve();
}

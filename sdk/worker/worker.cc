#include "sdk/worker/worker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <airlock/capnp/worker.capnp.h>
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/debug.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>

#include "capnp/socket_stream.h"
#include "sdk/worker/brokered_fs.h"
#include "sdk/worker/call_queue.h"
#include "sdk/worker/net.h"

namespace airlock {

namespace _ {

// The broker channel is always fd 3 (the sandbox launcher puts it there).
constexpr int CHANNEL_FD = 3;

// Fds the worker accepts per message. The broker sends at most one (an opened file).
constexpr uint MAX_FDS_FROM_BROKER = 2;

class BrokeredSecrets final : public Secrets {
 public:
  // The value the broker sealed into a memfd (SecretResult.file), read from offset 0 to its end.
  static Secret valueFrom(OpenedFile file) {
    if (!file.ok()) return Secret::failed(file.message());
    std::string value;
    char buffer[4096];
    for (;;) {
      ssize_t n = pread(file.fd(), buffer, sizeof(buffer), value.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return Secret::failed(std::string("reading the secret's memfd: ") + strerror(errno));
      }
      if (n == 0) return Secret::value(kj::mv(value));
      value.append(buffer, n);
    }
  }

  BrokeredSecrets(rpc::Secrets::Client secrets, kj::WaitScope& waitScope)
      : secrets_(kj::mv(secrets)), waitScope_(waitScope) {}

  Secret get(const std::string& name) override {
    auto request = secrets_.getRequest();
    request.setName(name);
    auto response = request.send().wait(waitScope_);
    auto result = response.getResult();
    switch (result.which()) {
      case rpc::SecretResult::FILE:
        return valueFrom(_::fileFrom(result.getFile(), waitScope_));
      case rpc::SecretResult::VALUE: {
        auto bytes = result.getValue();
        return Secret::value(std::string(reinterpret_cast<const char*>(bytes.begin()),
                                         bytes.size()));
      }
      case rpc::SecretResult::DENIED:
        return Secret::denied(result.getDenied());
      case rpc::SecretResult::FAILED:
        return Secret::failed(result.getFailed());
    }
    return Secret::failed("unknown answer from broker");
  }

 private:
  rpc::Secrets::Client secrets_;
  kj::WaitScope& waitScope_;
};

class BrokeredUnits final : public Units {
 public:
  BrokeredUnits(rpc::Units::Client units, kj::WaitScope& waitScope)
      : units_(kj::mv(units)), waitScope_(waitScope) {}

  InvokeResult invoke(const std::string& unit, const std::string& method,
                      std::string_view payload) override {
    auto request = units_.invokeRequest();
    request.setUnit(unit);
    request.setMethod(method);
    request.setPayload(kj::arrayPtr(reinterpret_cast<const kj::byte*>(payload.data()),
                                    payload.size()));
    auto response = request.send().wait(waitScope_);
    auto result = response.getResult();
    switch (result.which()) {
      case rpc::InvokeResult::OK: {
        auto bytes = result.getOk();
        return InvokeResult::ok(std::string(reinterpret_cast<const char*>(bytes.begin()),
                                            bytes.size()));
      }
      case rpc::InvokeResult::DENIED: return InvokeResult::denied(result.getDenied());
      case rpc::InvokeResult::FAILED: return InvokeResult::failed(result.getFailed());
      case rpc::InvokeResult::ERROR: return InvokeResult::error(result.getError());
    }
    return InvokeResult::failed("unknown answer from broker");
  }

 private:
  rpc::Units::Client units_;
  kj::WaitScope& waitScope_;
};

rpc::LogLevel toRpc(LogLevel level) {
  switch (level) {
    case LogLevel::DEBUG: return rpc::LogLevel::DEBUG;
    case LogLevel::INFO: return rpc::LogLevel::INFO;
    case LogLevel::WARN: return rpc::LogLevel::WARN;
    case LogLevel::ERROR: return rpc::LogLevel::ERROR;
  }
  return rpc::LogLevel::INFO;
}

class CallInProgress final : public Call {
 public:
  CallInProgress(PendingCall& pending, kj::WaitScope& waitScope)
      : pending_(pending), waitScope_(waitScope) {}

  const std::string& method() const override { return pending_.method; }
  std::string_view payload() const override { return pending_.payload; }
  Fs& fs() override {
    KJ_IF_MAYBE(fs, fs_) { return **fs; }
    KJ_IF_MAYBE(cap, pending_.fs) {
      auto owned = brokeredFs(*cap, waitScope_);
      auto& ref = *owned;
      fs_ = kj::mv(owned);
      return ref;
    }
    KJ_FAIL_REQUIRE("this unit's policy grants no file access (no fs.* allow rule)");
  }
  Secrets& secrets() override {
    return wrapped(secrets_, pending_.secrets,
                   "this unit's policy grants no secrets (no secrets.get allow rule)");
  }
  Units& units() override {
    return wrapped(units_, pending_.units,
                   "this unit's policy allows no invoke (no invoke allow rule)");
  }
  Net& net() override {
    return wrapped(net_, pending_.net,
                   "this unit's policy grants no network (no net.connect allow rule)");
  }
  void log(LogLevel level, std::string_view message) override {
    KJ_IF_MAYBE(cap, pending_.log) {
      auto request = cap->logRequest();
      request.setLevel(toRpc(level));
      request.setMessage(capnp::Text::Reader(message.data(), message.size()));
      request.send().wait(waitScope_);
      return;
    }
    KJ_FAIL_REQUIRE("the broker handed this call no log capability");
  }

 private:
  // The SDK object over a capability the call carries, made on first use; throws `missing` if
  // the broker handed none (the policy does not grant it).
  template <typename Wrapper, typename Client>
  Wrapper& wrapped(kj::Maybe<kj::Own<Wrapper>>& made, kj::Maybe<Client>& cap,
                   const char* missing) {
    KJ_IF_MAYBE(existing, made) { return **existing; }
    KJ_IF_MAYBE(client, cap) {
      auto owned = kj::heap<Wrapper>(*client, waitScope_);
      auto& ref = *owned;
      made = kj::mv(owned);
      return ref;
    }
    kj::throwFatalException(
        kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::heapString(missing)));
  }

  PendingCall& pending_;
  kj::WaitScope& waitScope_;
  kj::Maybe<kj::Own<Fs>> fs_;
  kj::Maybe<kj::Own<BrokeredSecrets>> secrets_;
  kj::Maybe<kj::Own<BrokeredNet>> net_;
  kj::Maybe<kj::Own<BrokeredUnits>> units_;
};

// The worker's bootstrap capability: queues each call for the main loop, which runs methods at
// top level where blocking on broker requests is allowed.
class WorkerServer final : public rpc::Worker::Server {
 public:
  WorkerServer(const std::map<std::string, Method>& methods, const TypedFactory& typed,
               CallQueue& queue)
      : methods_(methods), typed_(typed), queue_(queue) {}

  kj::Promise<void> bind(BindContext context) override {
    KJ_REQUIRE(typed_ != nullptr, "this worker has no typed interface");
    context.getResults().setTyped(typed_(context.getParams().getCaps()));
    return kj::READY_NOW;
  }

  kj::Promise<void> hello(HelloContext context) override {
    auto list = context.getResults().initMethods(methods_.size());
    uint i = 0;
    for (auto& entry : methods_) list.set(i++, entry.first);
    return kj::READY_NOW;
  }

  kj::Promise<void> call(CallContext context) override {
    auto params = context.getParams();
    auto pending = kj::heap<PendingCall>();
    pending->method = params.getMethod();
    auto payload = params.getPayload();
    pending->payload.assign(reinterpret_cast<const char*>(payload.begin()), payload.size());
    auto caps = params.getCaps();
    if (caps.hasFs()) pending->fs = caps.getFs();
    if (caps.hasSecrets()) pending->secrets = caps.getSecrets();
    if (caps.hasNet()) pending->net = caps.getNet();
    if (caps.hasLog()) pending->log = caps.getLog();
    if (caps.hasUnits()) pending->units = caps.getUnits();
    auto paf = kj::newPromiseAndFulfiller<Reply>();
    pending->done = kj::mv(paf.fulfiller);
    queue_.push(kj::mv(pending));
    return paf.promise.then([context](Reply reply) mutable {
      auto result = context.getResults().initResult();
      if (reply.isOk()) {
        auto& bytes = reply.payloadOrMessage();
        result.setOk(kj::arrayPtr(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()));
      } else if (reply.payloadOrMessage() == NO_SUCH_METHOD_MARK) {
        result.setNoSuchMethod();
      } else {
        result.setError(reply.payloadOrMessage());
      }
    });
  }

 private:
  const std::map<std::string, Method>& methods_;
  const TypedFactory& typed_;
  CallQueue& queue_;
};

Reply runMethod(const Method& method, Call& call) {
  Reply reply = Reply::error("");
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() { reply = method(call); })) {
    return Reply::error(kj::str("method threw: ", exception->getDescription()).cStr());
  }
  return reply;
}

// The broker channel and its event loop from the first Worker::next() on: the loop must outlive
// every call it hands out, since their brokered requests wait on it.
struct ServingChannel {
  ServingChannel(const std::map<std::string, Method>& methods, const TypedFactory& typed)
      : io(kj::setupAsyncIo()),
        // Not kj's wrapUnixSocketFd: that one wakes the worker each time the broker reads a
        // message of its (capnp/socket_stream.h).
        stream(rpc::wrapSocket(io, kj::AutoCloseFd(CHANNEL_FD), rpc::Fds::ACCEPTED)),
        rpc(*stream, MAX_FDS_FROM_BROKER, kj::heap<WorkerServer>(methods, typed, queue),
            capnp::rpc::twoparty::Side::SERVER),
        disconnected(rpc.onDisconnect().fork()) {}

  // The next queued call, or null once the broker has closed the channel.
  kj::Maybe<kj::Own<PendingCall>> nextPending() {
    auto next = queue.next().exclusiveJoin(
        disconnected.addBranch().then([]() -> kj::Maybe<kj::Own<PendingCall>> {
          return nullptr;
        }));
    auto pending = next.wait(io.waitScope);
    // Let the loop finish its turn first: answers to earlier calls that the channel gathered
    // (capnp/socket_stream.h) leave now, not after this method, however long it takes.
    io.waitScope.poll();
    return pending;
  }

  kj::AsyncIoContext io;
  CallQueue queue;
  kj::Own<kj::AsyncCapabilityStream> stream;
  capnp::TwoPartyClient rpc;
  kj::ForkedPromise<void> disconnected;
};

class PulledCallInProgress final : public PulledCall {
 public:
  PulledCallInProgress(kj::Own<PendingCall> pending, kj::WaitScope& waitScope)
      : pending_(kj::mv(pending)), call_(*pending_, waitScope) {}
  ~PulledCallInProgress() noexcept(false) {
    answer(Reply::error("the method gave no answer"));
  }

  Call& call() override { return call_; }
  void answer(Reply reply) override {
    if (answered_) return;
    answered_ = true;
    pending_->done->fulfill(kj::mv(reply));
  }

 private:
  kj::Own<PendingCall> pending_;
  CallInProgress call_;
  bool answered_ = false;
};

}  // namespace _

Secret Secret::value(std::string bytes) {
  Secret s;
  s.ok_ = true;
  s.value_.assign(bytes);  // copied, then wiped: see the move constructor
  explicit_bzero(bytes.data(), bytes.size());
  return s;
}
Secret Secret::denied(std::string reason) {
  Secret s;
  s.denied_ = true;
  s.message_ = kj::mv(reason);
  return s;
}
Secret Secret::failed(std::string reason) {
  Secret s;
  s.message_ = kj::mv(reason);
  return s;
}
Secret::Secret(Secret&& other) noexcept
    : ok_(other.ok_), denied_(other.denied_), message_(kj::mv(other.message_)) {
  // Copy rather than move the value: a moved small string leaves its bytes in `other`'s inline
  // buffer, which would then escape the wipe below.
  value_.assign(other.value_);
  explicit_bzero(other.value_.data(), other.value_.size());
}
Secret::~Secret() { explicit_bzero(value_.data(), value_.size()); }

InvokeResult InvokeResult::error(std::string message) {
  return InvokeResult(Kind::ERROR, kj::mv(message));
}
InvokeResult InvokeResult::denied(std::string message) {
  return InvokeResult(Kind::DENIED, kj::mv(message));
}
InvokeResult InvokeResult::failed(std::string message) {
  return InvokeResult(Kind::FAILED, kj::mv(message));
}

Worker::Worker(int, char**) {
  struct stat st;
  if (fstat(_::CHANNEL_FD, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    fprintf(stderr, "airlock worker: fd 3 is not the broker channel; workers are started by "
                    "airlockd (or `airlock sandbox run` for testing)\n");
    _exit(2);
  }
}

Worker::~Worker() = default;

void Worker::method(std::string name, Method handler) {
  methods_[kj::mv(name)] = kj::mv(handler);
}

void Worker::typed(TypedFactory factory) { typed_ = kj::mv(factory); }

void Worker::pulled(std::string name) { methods_[kj::mv(name)] = Method(); }

std::unique_ptr<PulledCall> Worker::next() {
  if (channel_ == nullptr) channel_ = std::make_unique<_::ServingChannel>(methods_, typed_);
  for (;;) {
    KJ_IF_MAYBE(pending, channel_->nextPending()) {
      auto it = methods_.find((*pending)->method);
      if (it == methods_.end()) {
        (*pending)->done->fulfill(Reply::error(_::NO_SUCH_METHOD_MARK));
      } else if (!it->second) {
        return std::make_unique<_::PulledCallInProgress>(kj::mv(*pending),
                                                         channel_->io.waitScope);
      } else {
        _::CallInProgress call(**pending, channel_->io.waitScope);
        (*pending)->done->fulfill(_::runMethod(it->second, call));
      }
    } else {
      return nullptr;  // the broker closed the channel: nothing more will come
    }
  }
}

int Worker::serve() {
  // Every registered method runs inside next(); a pulled() name has nobody to answer it here.
  while (auto call = next()) {
    call->answer(Reply::error("method \"" + call->call().method() +
                              "\" is registered to be pulled (Worker::next), not served"));
  }
  return 0;
}

}  // namespace airlock

#include "sdk/host/client.h"

#include <airlock/capnp/host.capnp.h>
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/debug.h>

#include <fcntl.h>

#include <cstdint>
#include <map>

#include "capnp/socket_stream.h"
#include "sdk/host/handshake.h"

namespace airlock {

struct Client::Connection {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  kj::Own<kj::AsyncCapabilityStream> stream;
  kj::Own<capnp::TwoPartyClient> rpc;
  rpc::Session::Client session = nullptr;
  // One Unit capability per unit name, obtained once (pipelined), so a call is one round trip.
  std::map<std::string, rpc::Unit::Client> units;

  kj::Maybe<rpc::Admin::Client> adminCap;  // obtained on first use

  rpc::Admin::Client& admin() {
    KJ_IF_MAYBE(cap, adminCap) { return *cap; }
    return adminCap.emplace(session.adminRequest().send().getAdmin());
  }

  rpc::Unit::Client& unit(const std::string& name) {
    auto it = units.find(name);
    if (it == units.end()) {
      auto request = session.unitRequest();
      request.setName(name);
      it = units.emplace(name, request.send().getUnit()).first;
    }
    return it->second;
  }
};

namespace _ {

// The most descriptors one message to airlockd carries: a call's grants (MAX_GRANTS_PER_CALL).
constexpr uint MAX_FDS_SENT_PER_MESSAGE = 32;

// A descriptor grant's file on the wire: Cap'n Proto attaches getFd()'s descriptor to the
// message that carries the capability. Owns a copy, so the caller's own stays the caller's.
class GrantedFileServer final : public rpc::GrantedFile::Server {
 public:
  explicit GrantedFileServer(int fd) {
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    KJ_SYSCALL(copy, "copying a descriptor to grant", fd);
    fd_ = kj::AutoCloseFd(copy);
  }
  kj::Maybe<int> getFd() override { return fd_.get(); }

 private:
  kj::AutoCloseFd fd_;
};

CallErrorKind fromWire(rpc::ErrorKind kind) {
  switch (kind) {
    case rpc::ErrorKind::DENIED: return CallErrorKind::DENIED;
    case rpc::ErrorKind::UNIT_CRASHED: return CallErrorKind::UNIT_CRASHED;
    case rpc::ErrorKind::TIMED_OUT: return CallErrorKind::TIMED_OUT;
    case rpc::ErrorKind::BAD_REQUEST: return CallErrorKind::BAD_REQUEST;
    case rpc::ErrorKind::UNIT_UNAVAILABLE: return CallErrorKind::UNIT_UNAVAILABLE;
    case rpc::ErrorKind::NO_SUCH_METHOD: return CallErrorKind::NO_SUCH_METHOD;
    case rpc::ErrorKind::WORKER_FAILED: return CallErrorKind::WORKER_FAILED;
    case rpc::ErrorKind::NO_SUCH_UNIT: return CallErrorKind::NO_SUCH_UNIT;
    case rpc::ErrorKind::INTERNAL: return CallErrorKind::INTERNAL;
    case rpc::ErrorKind::BUSY: return CallErrorKind::BUSY;
  }
  return CallErrorKind::INTERNAL;
}


// The grants of one call on the wire (capnp/host.capnp Grant).
void putGrants(const std::vector<Grant>& grants, capnp::List<rpc::Grant>::Builder out) {
  for (unsigned i = 0; i < grants.size(); ++i) {
    out[i].setPath(grants[i].path);
    auto mode = out[i].initMode();
    for (GrantMode m : grants[i].modes) {
      switch (m) {
        case GrantMode::READ: mode.setRead(true); break;
        case GrantMode::WRITE: mode.setWrite(true); break;
        case GrantMode::CREATE: mode.setCreate(true); break;
        case GrantMode::TRUNCATE: mode.setTruncate(true); break;
        case GrantMode::APPEND: mode.setAppend(true); break;
      }
    }
    if (grants[i].fd >= 0) out[i].setFile(kj::heap<GrantedFileServer>(grants[i].fd));
  }
}

}  // namespace _

const char* callErrorKindName(CallErrorKind kind) {
  switch (kind) {
    case CallErrorKind::NONE: return "ok";
    case CallErrorKind::DENIED: return "denied";
    case CallErrorKind::UNIT_CRASHED: return "unit crashed";
    case CallErrorKind::TIMED_OUT: return "timed out";
    case CallErrorKind::BAD_REQUEST: return "bad request";
    case CallErrorKind::UNIT_UNAVAILABLE: return "unit unavailable";
    case CallErrorKind::NO_SUCH_METHOD: return "no such method";
    case CallErrorKind::WORKER_FAILED: return "worker failed";
    case CallErrorKind::NO_SUCH_UNIT: return "no such unit";
    case CallErrorKind::INTERNAL: return "broker error";
    case CallErrorKind::DISCONNECTED: return "disconnected";
    case CallErrorKind::BUSY: return "busy";
  }
  return "unknown";
}

CallOutcome CallOutcome::success(std::string payload) {
  CallOutcome outcome;
  outcome.payloadOrMessage_ = std::move(payload);
  return outcome;
}

CallOutcome CallOutcome::failure(CallErrorKind kind, std::string message, std::string ruleId) {
  CallOutcome outcome;
  outcome.kind_ = kind;
  outcome.payloadOrMessage_ = std::move(message);
  outcome.ruleId_ = std::move(ruleId);
  return outcome;
}

std::string CallOutcome::describe() const {
  if (ok()) return "ok";
  std::string text = callErrorKindName(kind_);
  if (!ruleId_.empty()) text += " by rule " + ruleId_;
  if (!payloadOrMessage_.empty()) text += ": " + payloadOrMessage_;
  return text;
}

Client Client::connect(const std::string& socketPath, const std::string& clientKeyFile,
                       const std::string& brokerPublicKeyFile) {
  auto identity = ClientIdentity::fromFile(clientKeyFile);
  return connect(socketPath, identity, brokerKeyFromFile(brokerPublicKeyFile));
}

Client Client::connect(const std::string& socketPath, const ClientIdentity& identity,
                       const audit::PublicKey& brokerKey) {
  auto connection = kj::heap<Connection>();
  auto& io = connection->io;
  auto address = io.provider->getNetwork()
                     .parseAddress(kj::str("unix:", socketPath.c_str()))
                     .wait(io.waitScope);
  // Not kj's stream: no wake-up for each message airlockd reads (capnp/socket_stream.h); the
  // broker sends a host no fds (a host sends some: descriptor grants).
  connection->stream =
      rpc::takeOver(io.unixEventPort, address->connect().wait(io.waitScope), rpc::Fds::REFUSED);
  // Sending descriptors needs a limit above 0 on this side too (Cap'n Proto drops them otherwise).
  connection->rpc =
      kj::heap<capnp::TwoPartyClient>(*connection->stream, _::MAX_FDS_SENT_PER_MESSAGE);
  auto gateway = connection->rpc->bootstrap().castAs<rpc::Gateway>();
  connection->session = authenticate(gateway, identity, brokerKey, io.waitScope);
  return Client(kj::mv(connection));
}

Client::Client(kj::Own<Connection> connection) : connection_(kj::mv(connection)) {}
Client::Client(Client&&) noexcept = default;
Client::~Client() noexcept(false) = default;

CallOutcome UnitRef::call(const std::string& method, const std::string& payload,
                          std::chrono::milliseconds timeout) {
  return client_.call(name_, method, payload, {}, timeout);
}

CallOutcome UnitRef::call(const std::string& method, const std::string& payload,
                          const std::vector<Grant>& grants, std::chrono::milliseconds timeout) {
  return client_.call(name_, method, payload, grants, timeout);
}

RunOutcome UnitRef::run(const std::vector<std::string>& args, const std::string& input,
                        std::chrono::milliseconds timeout) {
  return client_.run(name_, args, input, timeout);
}

capnp::Capability::Client Client::typedCapability(const std::string& unit,
                                                  const std::vector<Grant>& grants) {
  auto request = connection_->unit(unit).typedRequest();
  _::putGrants(grants, request.initGrants(static_cast<unsigned>(grants.size())));
  return request.send().getCap();
}

kj::WaitScope& Client::waitScope() { return connection_->io.waitScope; }

capnp::Capability::Client UnitRef::typedCapability(const std::vector<Grant>& grants) {
  return client_.typedCapability(name_, grants);
}

CallOutcome Client::call(const std::string& unit, const std::string& method,
                         const std::string& payload, const std::vector<Grant>& grants,
                         std::chrono::milliseconds timeout) {
  KJ_REQUIRE(timeout.count() >= 0 && timeout.count() <= UINT32_MAX, "timeout out of range",
             timeout.count());
  auto& io = connection_->io;
  auto callRequest = connection_->unit(unit).callRequest();
  callRequest.setMethod(method);
  callRequest.setTimeoutMs(static_cast<uint32_t>(timeout.count()));
  _::putGrants(grants, callRequest.initGrants(static_cast<unsigned>(grants.size())));
  callRequest.setPayload(
      kj::arrayPtr(reinterpret_cast<const kj::byte*>(payload.data()), payload.size()));
  CallOutcome outcome = CallOutcome::failure(CallErrorKind::INTERNAL, "no answer");
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    auto response = callRequest.send().wait(io.waitScope);
    auto result = response.getResult();
    if (result.isOk()) {
      auto bytes = result.getOk();
      outcome = CallOutcome::success(
          std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size()));
    } else {
      auto error = result.getError();
      outcome = CallOutcome::failure(_::fromWire(error.getKind()), error.getMessage(),
                                     error.getRuleId());
    }
  })) {
    auto kind = exception->getType() == kj::Exception::Type::DISCONNECTED
                    ? CallErrorKind::DISCONNECTED
                    : CallErrorKind::INTERNAL;
    outcome = CallOutcome::failure(kind, exception->getDescription().cStr());
  }
  return outcome;
}

RunOutcome Client::run(const std::string& unit, const std::vector<std::string>& args,
                       const std::string& input, std::chrono::milliseconds timeout) {
  KJ_REQUIRE(timeout.count() >= 0 && timeout.count() <= UINT32_MAX, "timeout out of range",
             timeout.count());
  auto& io = connection_->io;
  auto request = connection_->unit(unit).runRequest();
  auto list = request.initArgs(static_cast<unsigned>(args.size()));
  for (size_t i = 0; i < args.size(); ++i) list.set(static_cast<unsigned>(i), args[i]);
  request.setStdin(kj::arrayPtr(reinterpret_cast<const kj::byte*>(input.data()), input.size()));
  request.setTimeoutMs(static_cast<uint32_t>(timeout.count()));
  RunOutcome outcome;
  auto text = [](capnp::Data::Reader bytes) {
    return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
  };
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    auto response = request.send().wait(io.waitScope);
    auto result = response.getResult();
    if (result.isExited()) {
      auto exited = result.getExited();
      outcome.status = exited.getStatus();
      outcome.signal = exited.getSignal();
      outcome.out = text(exited.getStdout());
      outcome.err = text(exited.getStderr());
      outcome.outputCut = exited.getOutputCut();
      outcome.refusedSyscall = exited.getRefusedSyscall();
    } else {
      auto error = result.getError();
      outcome.call = CallOutcome::failure(_::fromWire(error.getKind()), error.getMessage(),
                                          error.getRuleId());
    }
  })) {
    auto kind = exception->getType() == kj::Exception::Type::DISCONNECTED
                    ? CallErrorKind::DISCONNECTED
                    : CallErrorKind::INTERNAL;
    outcome.call = CallOutcome::failure(kind, exception->getDescription().cStr());
  }
  return outcome;
}

Client::Reloaded Client::reload() {
  auto& io = connection_->io;
  auto response = connection_->admin().reloadRequest().send().wait(io.waitScope);
  Reloaded reloaded;
  reloaded.applied = response.getApplied();
  reloaded.revision = response.getRevision();
  reloaded.summary = response.getSummary();
  for (auto error : response.getErrors()) reloaded.errors.emplace_back(error);
  return reloaded;
}

uint64_t Client::drain() {
  auto& io = connection_->io;
  return connection_->admin().drainRequest().send().wait(io.waitScope).getCallsInFlight();
}

std::string Client::status() {
  auto& io = connection_->io;
  return connection_->admin().statusRequest().send().wait(io.waitScope).getJson();
}

}  // namespace airlock

#include "broker/server/host_listener.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <capnp/rpc-twoparty.h>
#include <kj/debug.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "broker/host/gateway.h"
#include "broker/server/budgeted_stream.h"
#include "broker/server/busy_paused_stream.h"
#include "broker/policy/model/call_grant.h"
#include "broker/server/peer_message_bounds.h"
#include "broker/state/policy_set.h"
#include "capnp/socket_stream.h"

namespace airlock::broker {

namespace _ {

// Pending connections the kernel queues for us.
constexpr int LISTEN_BACKLOG = 64;

sockaddr_un socketAddress(const std::string& path) {
  sockaddr_un address;
  memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  KJ_REQUIRE(path.size() < sizeof(address.sun_path), "socket path too long", path);
  memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

// A socket file left by a broker that died is removed; one a live broker answers on is not.
void removeStaleSocket(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  KJ_REQUIRE(S_ISSOCK(st.st_mode), "refusing to replace a non-socket file at the socket path",
             path);
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  KJ_SYSCALL(probe);
  kj::AutoCloseFd owned(probe);
  auto address = socketAddress(path);
  if (connect(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    KJ_FAIL_REQUIRE("another broker is listening on this socket", path);
  }
  KJ_SYSCALL(unlink(path.c_str()), "removing stale socket", path);
}

// Bytes of one connection's calls the broker holds unanswered before it stops reading that
// connection (Cap'n Proto's flow limit): a host that pipelines calls faster than the units answer
// waits on its own socket instead of queueing in the broker. One call is always read, however
// large (max_payload_bytes bounds it); 16 MiB is many ordinary calls.
constexpr size_t HOST_CALL_FLOW_LIMIT_WORDS = (16 << 20) / sizeof(capnp::word);

// After a failed accept (out of descriptors or memory, for a moment) the loop waits this long
// before the next: long enough not to spin on a full descriptor table, short enough that clients
// barely notice once descriptors are free again.
constexpr kj::Duration ACCEPT_RETRY_DELAY = 100 * kj::MILLISECONDS;

size_t openFilesLimit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return MAX_HOST_CONNECTIONS * 4;
  }
  return limit.rlim_cur;
}

}  // namespace _

class HostListener::Connection {
 public:
  // `fds`: whether the host may send descriptors (descriptor grants), at most
  // MAX_GRANTS_PER_CALL with one message; otherwise the stream never asks the kernel for any.
  Connection(kj::Own<kj::AsyncCapabilityStream> stream, rpc::Fds fds, Routing& routing,
             PeerCredentials peer, kj::Own<HostConnectionState> state)
      : stream_(kj::mv(stream)),
        network_(fds == rpc::Fds::ACCEPTED
                     ? kj::heap<capnp::TwoPartyVatNetwork>(
                           *stream_, static_cast<uint>(policy::MAX_GRANTS_PER_CALL),
                           capnp::rpc::twoparty::Side::SERVER)
                     : kj::heap<capnp::TwoPartyVatNetwork>(
                           static_cast<kj::AsyncIoStream&>(*stream_),
                           capnp::rpc::twoparty::Side::SERVER)),
        rpc_(capnp::makeRpcServer(*network_,
                                  kj::heap<GatewayServer>(routing, peer, kj::mv(state)))) {
    rpc_.setFlowLimit(_::HOST_CALL_FLOW_LIMIT_WORDS);
  }

  kj::Promise<void> onDisconnect() { return network_->onDisconnect(); }

 private:
  kj::Own<kj::AsyncCapabilityStream> stream_;
  kj::Own<capnp::TwoPartyVatNetwork> network_;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpc_;
};

void HostListener::ConnectionErrors::taskFailed(kj::Exception&& exception) {
  spdlog::warn("host connection ended with an error: {}", exception.getDescription().cStr());
}

kj::AutoCloseFd bindOwnerOnlySocket(const std::string& path) {
  _::removeStaleSocket(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  KJ_SYSCALL(fd, "socket(AF_UNIX)");
  kj::AutoCloseFd owned(fd);
  auto address = _::socketAddress(path);
  mode_t old = umask(0177);
  int bound = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  int bindError = errno;
  umask(old);
  if (bound != 0) KJ_FAIL_SYSCALL("bind", bindError, path);
  return owned;
}

HostListener::HostListener(const SocketOptions& options, kj::AsyncIoContext& io,
                           Routing& routing)
    : path_(options.path), routing_(routing), eventPort_(io.unixEventPort),
      limits_(hostConnectionCap(_::openFilesLimit())), connections_(errors_) {
  // 0600 from the start; widened to 0660 only after the group is set.
  kj::AutoCloseFd owned = bindOwnerOnlySocket(path_);
  int fd = owned.get();
  if (options.group) {
    KJ_SYSCALL(chown(path_.c_str(), static_cast<uid_t>(-1), *options.group), path_);
    KJ_SYSCALL(chmod(path_.c_str(), 0660), path_);
  }
  KJ_SYSCALL(listen(fd, _::LISTEN_BACKLOG), path_);
  receiver_ = io.lowLevelProvider->wrapListenSocketFd(
      kj::mv(owned), kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
}

HostListener::HostListener(kj::AutoCloseFd listening, const std::string& path,
                           kj::AsyncIoContext& io, Routing& routing)
    : path_(path), ownsFile_(false), routing_(routing), eventPort_(io.unixEventPort),
      limits_(hostConnectionCap(_::openFilesLimit())), connections_(errors_) {
  receiver_ = io.lowLevelProvider->wrapListenSocketFd(
      kj::mv(listening), kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
}

HostListener::~HostListener() noexcept(false) { stopAccepting(); }

void HostListener::stopAccepting() {
  if (receiver_.get() == nullptr) return;
  receiver_ = nullptr;
  if (ownsFile_) unlink(path_.c_str());
}

kj::Promise<void> HostListener::run() { return acceptLoop(); }

kj::Promise<void> HostListener::acceptLoop() {
  return receiver_->accept().then(
      [this](kj::Own<kj::AsyncIoStream>&& accepted) {
        // Taking over the socket can itself fail (EMFILE on its dup): that ends this connection,
        // never the accept loop, whose end would stop airlockd.
        KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { serve(kj::mv(accepted)); })) {
          spdlog::error("a host connection could not be served and is closed: {}",
                        e->getDescription().cStr());
        }
        return acceptLoop();
      },
      [this](kj::Exception&& e) {
        spdlog::error("accepting a host connection failed, trying again in {} ms: {}",
                      _::ACCEPT_RETRY_DELAY / kj::MILLISECONDS, e.getDescription().cStr());
        return routing_.timer.afterDelay(_::ACCEPT_RETRY_DELAY).then([this]() {
          return acceptLoop();
        });
      });
}

void HostListener::serve(kj::Own<kj::AsyncIoStream> accepted) {
  // Not kj's stream: no wake-up for each answer the host reads (capnp/socket_stream.h).
  // Descriptors only while the policy in force has a use for them: a connection that takes none
  // reads ahead, and the kernel closes whatever a host attaches.
  rpc::Fds fds = routing_.policy->takesDescriptorGrants() ? rpc::Fds::ACCEPTED : rpc::Fds::REFUSED;
  auto stream = rpc::takeOver(eventPort_, kj::mv(accepted), fds);
  struct ucred peer;
  uint length = sizeof(peer);
  stream->getsockopt(SOL_SOCKET, SO_PEERCRED, &peer, &length);
  PeerCredentials credentials{peer.uid, peer.pid};
  if (auto refusal = limits_.refusal(peer.uid)) {
    audit::AuditRecord record;
    record.caller = "uid:" + std::to_string(peer.uid);
    record.args["peer_uid"] = peer.uid;
    record.args["peer_pid"] = peer.pid;
    record.reason = refusal->reason + "; connection closed";
    routing_.limitRecords.refused(refusal->bound, record);
    return;  // `stream` closes here
  }
  auto places = limits_.take(peer.uid);
  auto state = kj::refcounted<HostConnectionState>();
  state->preAuth = kj::mv(places.preAuth);
  auto budgeted = kj::heap<BudgetedStream>(
      kj::mv(stream), "host uid " + std::to_string(peer.uid) + " pid " +
                          std::to_string(peer.pid));
  auto paused = kj::heap<BusyPausedStream>(kj::mv(budgeted), kj::addRef(*state), routing_.timer);
  auto gated = kj::heap<PeerMessageBounds>(kj::mv(paused), kj::addRef(*state), routing_, credentials);
  auto connection =
      kj::heap<Connection>(kj::mv(gated), fds, routing_, credentials, kj::addRef(*state));
  // Whichever comes first: the peer hangs up, or the deadline finds it unauthenticated (the
  // connection is then dropped, which closes it).
  auto deadline = routing_.timer.afterDelay(routing_.handshakeTimeout)
                      .then([this, credentials, state = kj::mv(state)]() -> kj::Promise<void> {
                        if (state->authenticated) return kj::NEVER_DONE;
                        refuseHandshakeTimeout(routing_, credentials);
                        return kj::READY_NOW;
                      });
  auto done = connection->onDisconnect().exclusiveJoin(kj::mv(deadline));
  connections_.add(done.attach(kj::mv(connection), kj::mv(places.connection)));
}

}  // namespace airlock::broker

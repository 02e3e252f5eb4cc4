#pragma once
// airlockd's Unix socket for host applications: creates it (refusing to steal a live broker's
// socket), restricts its mode, accepts connections within the caps of connection_limits.h, reads
// each peer's credentials and serves a Gateway on it. A failed accept (EMFILE, say) is logged
// and retried, never the end of airlockd. Event-loop thread only.

#include <sys/types.h>

#include <kj/async-io.h>

#include <optional>
#include <string>

#include "broker/server/connection_limits.h"
#include "broker/state/routing.h"

namespace airlock::broker {

struct SocketOptions {
  std::string path;
  std::optional<gid_t> group;  // set: mode 0660 with this group; unset: mode 0600
};

// A new Unix stream socket bound at `path`, mode 0600 from its first instant (bound under umask
// 0177), not yet listening; a stale socket file there (no one answers on it) is replaced, a live
// one or any other file is not. Throws naming the path and errno. Also airlockd's metrics socket
// (broker/metrics/metrics_server.h).
kj::AutoCloseFd bindOwnerOnlySocket(const std::string& path);

class HostListener {
 public:
  // Binds and listens. Throws naming the path and errno on failure.
  HostListener(const SocketOptions& options, kj::AsyncIoContext& io, Routing& routing);
  // Serves on `listening`, a socket a service manager bound, listens on and owns
  // (service_manager.h's takeActivatedSocket): its file and mode are the manager's, so it is
  // neither changed nor removed here.
  HostListener(kj::AutoCloseFd listening, const std::string& path, kj::AsyncIoContext& io,
               Routing& routing);
  ~HostListener() noexcept(false);  // removes the socket file if it made it

  kj::Promise<void> run();  // accepts until destroyed or stopAccepting()

  void stopAccepting();
  // Closes the listening socket and removes its file: new clients fail to connect at once, while
  // connections already accepted (and their calls) carry on. Cancel run()'s promise first.

 private:
  class Connection;
  kj::Promise<void> acceptLoop();
  void serve(kj::Own<kj::AsyncIoStream> accepted);

  std::string path_;
  bool ownsFile_ = true;
  Routing& routing_;
  kj::UnixEventPort& eventPort_;
  kj::Own<kj::ConnectionReceiver> receiver_;
  ConnectionLimits limits_;  // before connections_, whose places it counts
  struct ConnectionErrors final : public kj::TaskSet::ErrorHandler {
    void taskFailed(kj::Exception&& exception) override;
  } errors_;
  kj::TaskSet connections_;  // after errors_, which it uses
};

}  // namespace airlock::broker

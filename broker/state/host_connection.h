#pragma once
// What one host connection holds of airlockd, shared by the parts that serve it (the
// gateway's servers in broker/host/, the stream bounds in broker/server/) and read by a call's
// admission (broker/calls/call_admission.h): whether it has authenticated, what it holds, and
// until when its reads are paused. Event-loop thread only.

#include <kj/refcount.h>
#include <kj/time.h>

#include <cstdint>

namespace airlock::broker {

// How long a host connection is not read after one of its calls was answered `busy`: a client
// that retries at once (or pipelines more) is slowed to a few calls a second per connection
// instead of taking the broker's loop answering `busy`, and one that backs off never notices.
inline constexpr kj::Duration BUSY_READ_PAUSE = 10 * kj::MILLISECONDS;

// A place a connection holds under one of airlockd's caps on connections
// (server/connection_limits.h); destroying it gives the place back.
class HeldPlace {
 public:
  virtual ~HeldPlace() = default;
};

// What one authenticated connection may hold of airlockd at once. A client keeps one Unit
// capability per unit it uses (and drops the ones it is done with: Cap'n Proto then releases
// them here); without a bound, 500,000 kept `Session.unit()` capabilities pinned ~390 MiB.
inline constexpr uint32_t MAX_CAPABILITIES_PER_CONNECTION = 256;
// Calls one connection has waiting for their answers. Each holds its request, its record and a
// place in its unit's queue; Cap'n Proto's flow limit (16 MiB) bounds their bytes, not their
// number, which for tiny calls is tens of thousands. A client pipelining more than this is told
// `busy`, as a unit at its own max_calls_in_flight does.
inline constexpr uint32_t MAX_CALLS_IN_FLIGHT_PER_CONNECTION = 256;

// What the parts of one host connection share (made by server/host_listener.cc, held by its
// Gateway, Challenge, Session and Units): whether the handshake has succeeded, for the
// connection's deadline, and until when its reads are paused after a `busy` answer.
struct HostConnectionState final : public kj::Refcounted {
  bool authenticated = false;
  kj::TimePoint readsPausedUntil = kj::origin<kj::TimePoint>();
  kj::Maybe<kj::Own<HeldPlace>> preAuth;  // the place among unauthenticated connections
  uint32_t capabilities = 0;   // Unit, typed and Admin capabilities the host holds
  uint32_t callsInFlight = 0;  // calls on its Units not answered yet

  void authenticate() {
    authenticated = true;
    preAuth = nullptr;  // no longer counts against the unauthenticated caps
  }

  // Pauses for BUSY_READ_PAUSE, give or take half of it: connections told `busy` together must
  // not all come back in the same instant and hit the loop as one burst.
  void answeredBusy(kj::TimePoint now);
};

// Counts one thing a connection holds (a capability, a call in flight) in its
// HostConnectionState for as long as it lives.
class ConnectionHold {
 public:
  ConnectionHold(kj::Own<HostConnectionState> connection, uint32_t HostConnectionState::*count)
      : connection_(kj::mv(connection)), count_(count) {
    ++((*connection_).*count_);
  }
  ~ConnectionHold() { --((*connection_).*count_); }
  KJ_DISALLOW_COPY(ConnectionHold);

 private:
  kj::Own<HostConnectionState> connection_;
  uint32_t HostConnectionState::*count_;
};

}  // namespace airlock::broker

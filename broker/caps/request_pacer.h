#pragma once
// Pacing of the brokered requests a unit's workers make ([unit] max_requests_per_second and
// requests_burst): a worker over its unit's rate is made to wait, not refused. Its request is
// held until its turn and only then decided, performed and audited, so a flooding unit costs the
// broker no more than its rate while the other units' calls go on. One pacer per unit name, shared
// by all its workers and kept across reloads (a restarted pool does not forgive a flood); the rate
// is read from the unit's policy on each request, so a reload changes it at once.
// Event-loop thread only.

#include <kj/async.h>
#include <kj/refcount.h>
#include <kj/timer.h>

#include <capnp/capability.h>
#include <capnp/schema.h>

#include <cstdint>
#include <memory>

#include "broker/caps/call_scope.h"
#include "broker/policy/model/policy.h"

namespace airlock::broker {

// A generic cell rate: requests are spaced 1/rate apart, with up to `burst` at once after a quiet
// spell. Turns are given in arrival order.
class RequestPacer final : public kj::Refcounted {
 public:
  explicit RequestPacer(kj::Timer& timer) : timer_(timer) {}

  // When the next request of `unit` may go ahead: at once (no limit, or within the rate) or at
  // a later time, by which the pacer has already counted it.
  kj::Maybe<kj::TimePoint> turn(const policy::RequestLimits& limits);

  kj::Timer& timer() { return timer_; }
  uint64_t delayed() const { return delayed_; }  // requests made to wait, since start

 private:
  kj::Timer& timer_;
  // When the next request would go ahead if the bucket were empty (the "theoretical arrival
  // time"); null before the first request.
  kj::Maybe<kj::TimePoint> nextAt_;
  uint64_t delayed_ = 0;
};

// The event of a request refused because its capability's call has ended.
inline constexpr char EXPIRED_CAPABILITY_EVENT[] = "capability.expired";

// `inner` (one of a call's capability servers, offering `schema`) behind `pacer`: the membrane
// every capability a worker is handed passes. Each request on it waits for its turn under
// `unit`'s request limits, then goes to `inner` — or, for a method `schema` does not have, is
// refused with a deny record of `scope`'s call (unknown_method.h), and once `scope`'s call has
// ended (CallScope::expire) every request is refused with a deny record
// (EXPIRED_CAPABILITY_EVENT): the one place a worker's capability dies with its call. A request
// cancelled while it waits (its worker died) never reaches `inner`.
capnp::Capability::Client paced(kj::Own<capnp::Capability::Server> inner,
                                capnp::InterfaceSchema schema, kj::Own<RequestPacer> pacer,
                                std::shared_ptr<const policy::UnitPolicy> unit,
                                kj::Own<CallScope> scope);

}  // namespace airlock::broker

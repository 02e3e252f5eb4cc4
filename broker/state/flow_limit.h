#pragma once
// Per-unit flow limits on host calls: [unit] max_calls_in_flight (calls queued or running) and
// max_calls_per_second with calls_burst (a token bucket). One UnitFlow per unit name, kept across
// reloads (a restarted pool does not reset the count); the limits are read from the unit's policy
// on each call, so a reload changes them at once. A refusal is a value naming the key that
// decided and its file:line:col. Time comes from the caller (kj::Timer::now()). Event-loop
// thread only.

#include <kj/time.h>

#include <cstdint>
#include <string>

#include "broker/policy/model/policy.h"

namespace airlock::broker {

struct FlowVerdict {
  bool admitted = true;
  std::string ruleId;  // "unit.max_calls_in_flight" or "unit.max_calls_per_second"
  std::string reason;  // the count or rate, the limit and where the key is
};

class UnitFlow {
 public:
  FlowVerdict admit(const policy::UnitPolicy& unit, kj::TimePoint now);
  // Admitted: the call counts in flight until release(), and took one token. Refused: nothing
  // changes (a refused call neither counts in flight nor takes a token).

  void release();  // an admitted call has been answered
  uint64_t inFlight() const { return inFlight_; }

 private:
  bool takeToken(const policy::FlowLimits& limits, kj::TimePoint now);

  uint64_t inFlight_ = 0;
  // The bucket in millionths of a call, so that refilling at `rate` calls per second is
  // `rate` millionths per microsecond: whole numbers, no drift.
  uint64_t microTokens_ = 0;
  kj::Maybe<kj::TimePoint> refilledAt_;  // null: the bucket starts full
};

}  // namespace airlock::broker

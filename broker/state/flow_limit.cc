#include "broker/state/flow_limit.h"

#include <kj/debug.h>

namespace airlock::broker {

namespace _ {

constexpr uint64_t MICRO_PER_CALL = 1000000;

}  // namespace _

FlowVerdict UnitFlow::admit(const policy::UnitPolicy& unit, kj::TimePoint now) {
  const policy::FlowLimits& limits = unit.flow;
  // In flight first: a call refused for it must not also spend a token.
  if (limits.maxCallsInFlight != 0 && inFlight_ >= limits.maxCallsInFlight) {
    return {false, "unit.max_calls_in_flight",
            "unit " + unit.name + " has " + std::to_string(inFlight_) +
                " call(s) queued or running, max_calls_in_flight " +
                std::to_string(limits.maxCallsInFlight) + " (" +
                limits.inFlightWhere.describe() + "); try again when one is answered"};
  }
  if (limits.maxCallsPerSecond != 0 && !takeToken(limits, now)) {
    return {false, "unit.max_calls_per_second",
            "unit " + unit.name + " is over max_calls_per_second " +
                std::to_string(limits.maxCallsPerSecond) + " with calls_burst " +
                std::to_string(limits.burst()) + " (" + limits.perSecondWhere.describe() +
                "); try again later"};
  }
  ++inFlight_;
  return {};
}

void UnitFlow::release() {
  KJ_ASSERT(inFlight_ > 0, "a call is released only once, after it was admitted");
  --inFlight_;
}

bool UnitFlow::takeToken(const policy::FlowLimits& limits, kj::TimePoint now) {
  uint64_t capacity = limits.burst() * _::MICRO_PER_CALL;
  KJ_IF_MAYBE(last, refilledAt_) {
    // Capped before multiplying: a long quiet spell only fills the bucket, and cannot overflow.
    uint64_t micros = static_cast<uint64_t>((now - *last) / kj::MICROSECONDS);
    uint64_t toFill = (capacity - kj::min(microTokens_, capacity)) / limits.maxCallsPerSecond + 1;
    microTokens_ = kj::min(capacity, microTokens_ + kj::min(micros, toFill) *
                                                        limits.maxCallsPerSecond);
  } else {
    microTokens_ = capacity;
  }
  refilledAt_ = now;
  if (microTokens_ < _::MICRO_PER_CALL) return false;
  microTokens_ -= _::MICRO_PER_CALL;
  return true;
}

}  // namespace airlock::broker

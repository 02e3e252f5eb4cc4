#include "broker/caps/held_fds.h"

namespace airlock::broker {

policy::Refusal HeldFds::refusal() const {
  if (held_ < limit_) return {};
  return policy::Refusal::because(
      "this worker already holds " + std::to_string(held_) +
      " brokered descriptors, the most a worker may (MAX_FDS_HELD_PER_WORKER): release File "
      "capabilities it no longer needs");
}

}  // namespace airlock::broker

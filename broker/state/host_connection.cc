#include "broker/state/host_connection.h"

#include <unistd.h>

#include <random>

namespace airlock::broker {

void HostConnectionState::answeredBusy(kj::TimePoint now) {
  // Not a secret: only a spread. One generator for the loop's thread.
  static thread_local std::minstd_rand spread(static_cast<unsigned>(getpid()));
  std::uniform_int_distribution<int64_t> share(50, 150);
  readsPausedUntil = now + BUSY_READ_PAUSE * share(spread) / 100;
}

}  // namespace airlock::broker

#include "broker/server/busy_paused_stream.h"

namespace airlock::broker {

kj::Promise<size_t> BusyPausedStream::tryRead(void* buffer, size_t minBytes, size_t maxBytes) {
  return pauseOver()
      .then([this, buffer, minBytes, maxBytes]() {
        return inner().tryRead(buffer, minBytes, maxBytes);
      })
      .then([this](size_t n) { return pauseOver().then([n]() { return n; }); });
}

kj::Promise<BusyPausedStream::ReadResult> BusyPausedStream::tryReadWithFds(
    void* buffer, size_t minBytes, size_t maxBytes, kj::AutoCloseFd* fdBuffer, size_t maxFds) {
  return pauseOver()
      .then([this, buffer, minBytes, maxBytes, fdBuffer, maxFds]() {
        return inner().tryReadWithFds(buffer, minBytes, maxBytes, fdBuffer, maxFds);
      })
      .then([this](ReadResult read) { return pauseOver().then([read]() { return read; }); });
}

// Resolves once no pause is in force; a pause extended meanwhile is waited out too.
kj::Promise<void> BusyPausedStream::pauseOver() {
  kj::TimePoint until = connection_->readsPausedUntil;
  if (until <= timer_.now()) return kj::READY_NOW;
  return timer_.atTime(until).then([this]() { return pauseOver(); });
}

}  // namespace airlock::broker

#include "broker/supervisor/async_launch.h"

namespace airlock::broker {

namespace {

// The child being set up and the watch on its setup channel; the watch goes first (members are
// destroyed in reverse), before the channel's fd closes.
struct SetupWatch {
  sandbox::PendingLaunch pending;
  kj::UnixEventPort::FdObserver channel;

  SetupWatch(kj::UnixEventPort& port, sandbox::PendingLaunch launch)
      : pending(kj::mv(launch)),
        channel(port, pending.setupChannelFd(), kj::UnixEventPort::FdObserver::OBSERVE_READ) {}
};

// The observer is edge-triggered: read until the channel has nothing more, then wait.
kj::Promise<sandbox::SandboxedProcess> readUntilDone(SetupWatch& watch) {
  if (watch.pending.readReport(sandbox::PendingLaunch::Read::NO_WAIT)) {
    return watch.pending.finish();
  }
  return watch.channel.whenBecomesReadable().then([&watch]() { return readUntilDone(watch); });
}

}  // namespace

kj::Promise<sandbox::SandboxedProcess> launchAsync(kj::UnixEventPort& port,
                                                   const sandbox::SandboxSpec& spec,
                                                   const sandbox::ChildFds& fds) {
  auto watch = kj::heap<SetupWatch>(port, sandbox::beginLaunch(spec, fds));
  auto done = kj::evalLater([&watch = *watch]() { return readUntilDone(watch); });
  return done.attach(kj::mv(watch));
}

}  // namespace airlock::broker

#include "bench/rpc_measure.h"

#include <fcntl.h>
#include <unistd.h>

#include <kj/debug.h>

#include <chrono>
#include <functional>

namespace airlock::bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr kj::byte PAYLOAD[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

}  // namespace

Samples measureCalls(rpc::Unit::Client& unit, kj::WaitScope& waitScope, const std::string& method,
                     int count) {
  Samples samples;
  for (int i = 0; i < count; ++i) {
    auto start = Clock::now();
    auto request = unit.callRequest();
    request.setMethod(method);
    request.setPayload(kj::arrayPtr(PAYLOAD, sizeof(PAYLOAD)));
    auto response = request.send().wait(waitScope);
    KJ_REQUIRE(response.getResult().isOk(), "benchmark call failed",
               response.getResult().getError().getMessage());
    samples.add(Clock::now() - start);
  }
  return samples;
}

double measureCallsPerSecond(rpc::Unit::Client& unit, kj::AsyncIoContext& io,
                             const std::string& method, int inFlight, kj::Duration duration) {
  uint64_t completed = 0;
  bool stopping = false;
  std::function<kj::Promise<void>()> lane = [&]() -> kj::Promise<void> {
    if (stopping) return kj::READY_NOW;
    auto request = unit.callRequest();
    request.setMethod(method);
    request.setPayload(kj::arrayPtr(PAYLOAD, sizeof(PAYLOAD)));
    return request.send().then([&](auto&&) {
      ++completed;
      return lane();
    });
  };
  kj::Vector<kj::Promise<void>> lanes;
  auto start = Clock::now();
  for (int i = 0; i < inFlight; ++i) lanes.add(lane());
  io.provider->getTimer().afterDelay(duration).wait(io.waitScope);
  uint64_t done = completed;
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stopping = true;
  kj::joinPromises(lanes.releaseAsArray()).wait(io.waitScope);
  return done / seconds;
}

double measureCallsInFlight(rpc::Unit::Client& unit, kj::WaitScope& waitScope,
                            const std::string& method, int inFlight, int count) {
  int issued = 0;
  std::function<kj::Promise<void>()> lane = [&]() -> kj::Promise<void> {
    if (issued == count) return kj::READY_NOW;
    ++issued;
    auto request = unit.callRequest();
    request.setMethod(method);
    request.setPayload(kj::arrayPtr(PAYLOAD, sizeof(PAYLOAD)));
    return request.send().then([&](capnp::Response<rpc::Unit::CallResults>&& response) {
      KJ_REQUIRE(response.getResult().isOk(), "benchmark call failed",
                 response.getResult().getError().getMessage());
      return lane();
    });
  };
  kj::Vector<kj::Promise<void>> lanes;
  auto start = Clock::now();
  for (int i = 0; i < inFlight; ++i) lanes.add(lane());
  kj::joinPromises(lanes.releaseAsArray()).wait(waitScope);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Samples measureFdPass(rpc::Fs::Client& fs, kj::WaitScope& waitScope, const std::string& path,
                      int count) {
  Samples samples;
  for (int i = 0; i < count; ++i) {
    auto start = Clock::now();
    auto request = fs.openRequest();
    request.setPath(path);
    request.initMode().setRead(true);
    auto response = request.send().wait(waitScope);
    KJ_REQUIRE(response.getResult().isFile(), "benchmark open failed");
    int fd = response.getResult().getFile().getFd().wait(waitScope).orDefault(-1);
    KJ_REQUIRE(fd >= 0, "no fd received");
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    close(copy);
    samples.add(Clock::now() - start);
  }
  return samples;
}

// Calls `method` of the unit with `payload` and reads its answer as the worker's own timings:
// little-endian int64 nanoseconds, one per operation it timed.
Samples workerTimed(rpc::Unit::Client& unit, kj::WaitScope& waitScope, const std::string& method,
                    const std::string& payload) {
  auto request = unit.callRequest();
  request.setMethod(method);
  request.setPayload(
      kj::arrayPtr(reinterpret_cast<const kj::byte*>(payload.data()), payload.size()));
  auto response = request.send().wait(waitScope);
  KJ_REQUIRE(response.getResult().isOk(), method, response.getResult().getError().getMessage());
  auto bytes = response.getResult().getOk();
  Samples samples;
  for (size_t i = 0; i + 8 <= bytes.size(); i += 8) {
    int64_t ns;
    memcpy(&ns, bytes.begin() + i, 8);
    samples.addNanos(ns);
  }
  return samples;
}

Samples measureDirectOpen(const std::string& path, int count) {
  Samples samples;
  for (int i = 0; i < count; ++i) {
    auto start = Clock::now();
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    KJ_REQUIRE(fd >= 0, "open failed", path);
    close(fd);
    samples.add(Clock::now() - start);
  }
  return samples;
}

Samples measureRawRoundTrip(int socket, int count) {
  Samples samples;
  char buffer[64] = {};
  for (int i = 0; i < count; ++i) {
    auto start = Clock::now();
    KJ_REQUIRE(write(socket, buffer, sizeof(buffer)) == sizeof(buffer));
    size_t got = 0;
    while (got < sizeof(buffer)) {
      ssize_t n = read(socket, buffer + got, sizeof(buffer) - got);
      KJ_REQUIRE(n > 0, "echo peer closed");
      got += n;
    }
    samples.add(Clock::now() - start);
  }
  return samples;
}

}  // namespace airlock::bench

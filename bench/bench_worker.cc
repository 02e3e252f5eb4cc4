// airlock-bench-worker: the worker the benchmarks call through airlockd.
//   noop       answers its payload
//   open-loop  payload "N PATH": N brokered fs.open(PATH, read), each timed here, inside the
//              worker; answers N little-endian int64 nanosecond samples
//   syscall-open-loop  payload "N PATH": N open(2)+close of PATH made directly, as an unmodified
//              library makes them (brokered where the unit has broker_syscalls), each timed here;
//              answers N little-endian int64 nanosecond samples
//   syscall-stat-loop  payload "N PATH": the same with stat(2)
//   crash      a real fault, for the restart figure
//   invoke-loop  payload "N UNIT": N brokered invokes of UNIT's noop (16 B), each timed here;
//              answers N little-endian int64 nanosecond samples
//   broker-flood  payload PATH: brokered fs.stat(PATH) back to back until PATH exists; answers
//              the number of requests made. A unit flooding the broker, for the noisy neighbour

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>

#include "sdk/worker/worker.h"

namespace {

airlock::Reply openLoop(airlock::Call& call) {
  std::string payload(call.payload());
  auto space = payload.find(' ');
  if (space == std::string::npos) return airlock::Reply::error("payload is \"N PATH\"");
  int count = std::stoi(payload.substr(0, space));
  std::string path = payload.substr(space + 1);
  std::string samples;
  for (int i = 0; i < count; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto file = call.fs().open(path, airlock::OpenFlags::readOnly());
    if (!file.ok()) return airlock::Reply::error(file.message());
    file.takeFd();  // closed here, as the bare baseline closes its copy
    int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now() - start).count();
    samples.append(reinterpret_cast<const char*>(&ns), sizeof(ns));
  }
  return airlock::Reply::ok(samples);
}

// N timed runs of `once` on the PATH of a payload "N PATH"; an error reply if one fails.
template <typename Once>
airlock::Reply timedLoop(airlock::Call& call, Once&& once) {
  std::string payload(call.payload());
  auto space = payload.find(' ');
  if (space == std::string::npos) return airlock::Reply::error("payload is \"N PATH\"");
  int count = std::stoi(payload.substr(0, space));
  std::string path = payload.substr(space + 1);
  std::string samples;
  for (int i = 0; i < count; ++i) {
    auto start = std::chrono::steady_clock::now();
    if (!once(path)) return airlock::Reply::error(path + ": " + strerror(errno));
    int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now() - start).count();
    samples.append(reinterpret_cast<const char*>(&ns), sizeof(ns));
  }
  return airlock::Reply::ok(samples);
}

airlock::Reply invokeLoop(airlock::Call& call) {
  std::string payload(call.payload());
  auto space = payload.find(' ');
  if (space == std::string::npos) return airlock::Reply::error("payload is \"N UNIT\"");
  int count = std::stoi(payload.substr(0, space));
  std::string unit = payload.substr(space + 1);
  const std::string argument(16, 'x');
  std::string samples;
  for (int i = 0; i < count; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto answer = call.units().invoke(unit, "noop", argument);
    if (!answer.ok()) return airlock::Reply::error(answer.message());
    int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now() - start).count();
    samples.append(reinterpret_cast<const char*>(&ns), sizeof(ns));
  }
  return airlock::Reply::ok(samples);
}

airlock::Reply brokerFlood(airlock::Call& call) {
  const std::string marker(call.payload());
  uint64_t requests = 0;
  for (;;) {
    ++requests;
    auto answer = call.fs().stat(marker);
    if (answer.status.ok()) break;
    if (answer.status.wasDenied()) return airlock::Reply::error(answer.status.message());
  }
  return airlock::Reply::ok(std::to_string(requests));
}

}  // namespace

int main(int argc, char** argv) {
  airlock::Worker worker(argc, argv);
  worker.method("noop", [](airlock::Call& call) {
    return airlock::Reply::ok(std::string(call.payload()));
  });
  worker.method("open-loop", openLoop);
  worker.method("syscall-open-loop", [](airlock::Call& call) {
    return timedLoop(call, [](const std::string& path) {
      int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return false;
      close(fd);
      return true;
    });
  });
  worker.method("syscall-stat-loop", [](airlock::Call& call) {
    return timedLoop(call, [](const std::string& path) {
      struct stat st;
      return ::stat(path.c_str(), &st) == 0;
    });
  });
  worker.method("invoke-loop", invokeLoop);
  worker.method("broker-flood", brokerFlood);
  worker.method("crash", [](airlock::Call&) -> airlock::Reply {
    *static_cast<volatile int*>(nullptr) = 1;
    return airlock::Reply::error("unreachable");
  });
  return worker.serve();
}

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
//   burn       payload "MS N": N threads each burn CPU for MS ms of wall time; answers "burned".
//              A unit that simply computes, for the resources figures
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
#include <thread>
#include <vector>

#include "sdk/worker/worker.h"

namespace {

// `count` timed runs of `once(argument)` for a payload "N ARGUMENT" (`shape` names it in the
// error); answers the N little-endian int64 nanosecond samples, or the first failure `once`
// reports (a non-empty message).
template <typename Once>
airlock::Reply timedLoop(airlock::Call& call, const char* shape, Once&& once) {
  std::string payload(call.payload());
  auto space = payload.find(' ');
  if (space == std::string::npos) return airlock::Reply::error(std::string("payload is ") + shape);
  int count = std::stoi(payload.substr(0, space));
  std::string argument = payload.substr(space + 1);
  std::string samples;
  for (int i = 0; i < count; ++i) {
    auto start = std::chrono::steady_clock::now();
    std::string failure = once(argument);
    if (!failure.empty()) return airlock::Reply::error(failure);
    int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now() - start).count();
    samples.append(reinterpret_cast<const char*>(&ns), sizeof(ns));
  }
  return airlock::Reply::ok(samples);
}

airlock::Reply openLoop(airlock::Call& call) {
  return timedLoop(call, "\"N PATH\"", [&](const std::string& path) -> std::string {
    auto file = call.fs().open(path, airlock::OpenFlags::readOnly());
    if (!file.ok()) return file.message();
    file.takeFd();  // closed here, as the bare baseline closes its copy
    return "";
  });
}

airlock::Reply invokeLoop(airlock::Call& call) {
  const std::string argument(16, 'x');
  return timedLoop(call, "\"N UNIT\"", [&](const std::string& unit) -> std::string {
    auto answer = call.units().invoke(unit, "noop", argument);
    return answer.ok() ? "" : answer.message();
  });
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

airlock::Reply burn(airlock::Call& call) {
  std::string payload(call.payload());
  auto space = payload.find(' ');
  if (space == std::string::npos) return airlock::Reply::error("payload is \"MS N\"");
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stol(payload));
  std::vector<std::thread> burners;
  for (unsigned long i = std::stoul(payload.substr(space + 1)); i > 0; --i) {
    burners.emplace_back([until]() {
      while (std::chrono::steady_clock::now() < until) asm volatile("" ::: "memory");
    });
  }
  for (auto& burner : burners) burner.join();
  return airlock::Reply::ok("burned");
}

int main(int argc, char** argv) {
  airlock::Worker worker(argc, argv);
  worker.method("noop", [](airlock::Call& call) {
    return airlock::Reply::ok(std::string(call.payload()));
  });
  worker.method("open-loop", openLoop);
  worker.method("syscall-open-loop", [](airlock::Call& call) {
    return timedLoop(call, "\"N PATH\"", [](const std::string& path) -> std::string {
      int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return path + ": " + strerror(errno);
      close(fd);
      return "";
    });
  });
  worker.method("syscall-stat-loop", [](airlock::Call& call) {
    return timedLoop(call, "\"N PATH\"", [](const std::string& path) -> std::string {
      struct stat st;
      return ::stat(path.c_str(), &st) == 0 ? "" : path + ": " + strerror(errno);
    });
  });
  worker.method("invoke-loop", invokeLoop);
  worker.method("broker-flood", brokerFlood);
  worker.method("burn", burn);
  worker.method("crash", [](airlock::Call&) -> airlock::Reply {
    *static_cast<volatile int*>(nullptr) = 1;
    return airlock::Reply::error("unreachable");
  });
  return worker.serve();
}

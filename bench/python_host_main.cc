// airlock-bench-python-host: what a Python host pays per call over the C++ host SDK, and a Python
// worker over a C++ one. One airlockd (bench/broker_runner.h), one unit of the bench worker and
// one of bench/python_worker.py ([unit] python_worker); blocks of no-op calls (16 B, method
// "noop") alternate between the C++ SDK in this process calling the C++ worker, the airlock
// Python package (ctypes over libairlock) in a python3 child that times each of its calls the
// same way, and the C++ SDK calling the Python worker, so all see the same machine state. Prints
// the latencies and the ratios; docs/PERFORMANCE.md.
//
//   airlock-bench-python-host [BLOCKS [CALLS_PER_BLOCK]]   (defaults 10 and 500)

#include <kj/debug.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "bench/broker_runner.h"
#include "bench/samples.h"
#include "bench/self_dir.h"
#include "sdk/host/client.h"

namespace airlock::bench {
namespace {

const std::string PAYLOAD(16, 'x');

// The Python side of one block: connects, warms up, then prints one call's nanoseconds a line.
constexpr char PYTHON_BLOCK[] = R"(
import sys, time, airlock
socket, key, pub, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
payload = b"x" * 16
with airlock.connect(socket, key=key, broker_key=pub) as broker:
    unit = broker.unit("bench")
    for _ in range(50):
        unit.call("noop", payload)
    out = []
    for _ in range(calls):
        start = time.perf_counter_ns()
        unit.call("noop", payload)
        out.append(time.perf_counter_ns() - start)
print("\n".join(map(str, out)))
)";

void pythonBlock(const BrokerRunner& broker, const std::string& buildDir, int calls,
                 Samples& samples) {
  std::string command = "env -u AIRLOCK_LIBRARY PYTHONPATH='" + buildDir + "/python' python3 -B -c '" +
                        PYTHON_BLOCK + "' '" + broker.socketPath() + "' '" +
                        broker.clientKeyFile() + "' '" + broker.brokerPublicKeyFile() + "' " +
                        std::to_string(calls);
  FILE* child = popen(command.c_str(), "r");
  KJ_REQUIRE(child != nullptr, "popen python3");
  char line[64];
  int read = 0;
  while (fgets(line, sizeof line, child) != nullptr) {
    samples.addNanos(std::atoll(line));
    ++read;
  }
  KJ_REQUIRE(pclose(child) == 0 && read == calls, "the python3 block failed", read);
}

void cppBlock(Client& client, int calls, Samples& samples, const char* unitName = "bench") {
  auto unit = client.unit(unitName);
  for (int i = 0; i < calls; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto outcome = unit.call("noop", PAYLOAD);
    samples.add(std::chrono::steady_clock::now() - start);
    KJ_REQUIRE(outcome.ok(), outcome.describe());
  }
}

int run(int blocks, int calls) {
  std::string bin = selfDir();
  std::string buildDir = bin.substr(0, bin.rfind('/'));
  const std::string pythonUnit = std::string("[unit]\nname = \"pybench\"\npython_worker = \"") +
                                 AIRLOCK_BENCH_PYTHON_WORKER +
                                 "\"\n\n[[rule]]\nid = \"bench-caller\"\nallow = \"call\"\n"
                                 "caller = [\"bench\"]\nmethod = [\"noop\"]\n";
  BrokerRunner broker(bin, 1, 1, "airlockd", RequestPace::UNLIMITED, {},
                      {{"pybench.toml", pythonUnit}});
  auto client = Client::connect(broker.socketPath(), broker.clientKeyFile(),
                                broker.brokerPublicKeyFile());
  Samples warmup, cpp, python, pythonWorker;
  cppBlock(client, 50, warmup);
  cppBlock(client, 50, warmup, "pybench");
  for (int block = 0; block < blocks; ++block) {
    cppBlock(client, calls, cpp);
    pythonBlock(broker, buildDir, calls, python);
    cppBlock(client, calls, pythonWorker, "pybench");
  }
  printf("| host→unit no-op call, C++ host SDK | %.1f / %.1f µs |\n", cpp.p50(), cpp.p99());
  printf("| host→unit no-op call, Python host (ctypes over libairlock) | %.1f / %.1f µs | "
         "C++ host: %.2f× / %.2f× (p50 / p99) | ≤ 1.3× | %s |\n",
         python.p50(), python.p99(), python.p50() / cpp.p50(), python.p99() / cpp.p99(),
         python.p50() / cpp.p50() <= 1.3 ? "yes" : "no");
  printf("| host→unit no-op call, Python worker (C++ host SDK) | %.1f / %.1f µs | "
         "C++ worker: %.2f× / %.2f× (p50 / p99) | | |\n",
         pythonWorker.p50(), pythonWorker.p99(), pythonWorker.p50() / cpp.p50(),
         pythonWorker.p99() / cpp.p99());
  return 0;
}

}  // namespace
}  // namespace airlock::bench

int main(int argc, char** argv) {
  int blocks = argc > 1 ? std::atoi(argv[1]) : 10;
  int calls = argc > 2 ? std::atoi(argv[2]) : 500;
  return airlock::bench::run(blocks, calls);
}

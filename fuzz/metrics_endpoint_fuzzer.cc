// libFuzzer target for the `--metrics PATH|ADDR:PORT` parser (broker/metrics/metrics_endpoint.h).
// Input: the text of the option. Invariants:
//   - no crash and no hang on any text;
//   - with remote scrapes refused, every TCP endpoint accepted is loopback;
//   - an accepted TCP endpoint's describe() parses back to the same address, port and loopback
//     verdict, so the log line names exactly what airlockd listens on;
//   - a refusal always says why.

#include <cstdint>
#include <string>

#include "broker/metrics/metrics_endpoint.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace airlock::broker::metrics;
  using airlock::fuzz::fuzzCheck;
  std::string text(reinterpret_cast<const char*>(data), size);
  for (RemoteScrapes remote : {RemoteScrapes::REFUSED, RemoteScrapes::ALLOWED}) {
    std::string error;
    KJ_IF_MAYBE(endpoint, parseMetricsEndpoint(text, remote, error)) {
      if (endpoint->kind != MetricsEndpoint::Kind::TCP) continue;
      fuzzCheck(remote == RemoteScrapes::ALLOWED || endpoint->loopback,
                "a refused-remote parse accepts only loopback", text);
      std::string again;
      KJ_IF_MAYBE(back, parseMetricsEndpoint(endpoint->describe(), RemoteScrapes::ALLOWED, again)) {
        fuzzCheck(back->address == endpoint->address && back->port == endpoint->port &&
                      back->loopback == endpoint->loopback,
                  "describe() parses back to the same endpoint", text);
      } else {
        fuzzCheck(false, "describe() of an accepted endpoint parses", text + " -> " + again);
      }
    } else {
      fuzzCheck(!error.empty(), "a refusal says why", text);
    }
  }
  return 0;
}

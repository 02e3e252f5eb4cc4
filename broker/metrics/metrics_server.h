#pragma once
// airlockd's metrics endpoint (`--metrics`): HTTP on a Unix socket or a TCP address, answering
// `GET /metrics` with the Prometheus text format (prometheus-cpp's TextSerializer) of the
// counted metrics (record_metrics.h) and the state read at the scrape (state_metrics.h).
//
// Served by kj's HTTP server on the broker's event loop — no thread of its own, so a scrape
// reads the broker's state between two events, never half-way through one. Bounded so a hostile
// or stuck scraper cannot hurt airlockd: at most MAX_METRICS_CONNECTIONS at once (more are
// closed on accept), each must send its request headers within METRICS_HEADER_TIMEOUT (kj caps
// their size), only GET is answered, no request body is read, and every answer is the one
// scrape text. A failed accept is logged and retried after a pause.
//
// Event-loop thread only. `counted` and `routing` must outlive the server.

#include <kj/async-io.h>
#include <kj/compat/http.h>
#include <prometheus/registry.h>

#include <string>

#include "broker/metrics/metrics_endpoint.h"
#include "broker/state/routing.h"

namespace airlock::broker::metrics {

// Scrapers served at once: Prometheus scrapes one connection at a time; a few more leave room
// for a person with curl. Past it a connection is closed at once, costing the loop nothing.
inline constexpr size_t MAX_METRICS_CONNECTIONS = 8;
// A scraper sends its request at once; one that does not is given up on, and its slot freed.
inline constexpr kj::Duration METRICS_HEADER_TIMEOUT = 5 * kj::SECONDS;

// The scrape text: `counted`'s metrics, then the state's as they are now.
std::string scrapeText(prometheus::Registry& counted, const Routing& routing);

class MetricsServer {
 public:
  // Binds and listens at `endpoint` (a Unix socket: mode 0600, a stale file replaced, removed
  // again by the destructor). Throws naming the endpoint and errno.
  MetricsServer(const MetricsEndpoint& endpoint, kj::AsyncIoContext& io,
                prometheus::Registry& counted, const Routing& routing);
  ~MetricsServer() noexcept(false);

  kj::Promise<void> run();  // accepts until destroyed
  std::string boundTo() const { return boundTo_; }  // "unix:PATH" or "ADDR:PORT", port chosen

 private:
  class Service;
  class Slot;
  kj::Promise<void> acceptLoop();

  MetricsEndpoint endpoint_;
  std::string boundTo_;
  kj::Timer& timer_;
  kj::Own<kj::ConnectionReceiver> receiver_;
  kj::Own<kj::HttpHeaderTable> headers_;
  kj::HttpHeaderId contentType_;
  kj::Own<Service> service_;
  kj::Own<kj::HttpServer> http_;
  size_t connections_ = 0;
  struct Errors final : public kj::TaskSet::ErrorHandler {
    void taskFailed(kj::Exception&& exception) override;
  } errors_;
  kj::TaskSet tasks_;  // last: the connections, which use everything above
};

}  // namespace airlock::broker::metrics

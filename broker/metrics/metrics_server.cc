#include "broker/metrics/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kj/debug.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "broker/metrics/state_metrics.h"
#include "broker/server/host_listener.h"

namespace airlock::broker::metrics {

namespace _ {

constexpr int LISTEN_BACKLOG = 16;
// After a failed accept (out of descriptors, for a moment): as the host socket does.
constexpr kj::Duration ACCEPT_RETRY_DELAY = 100 * kj::MILLISECONDS;
constexpr char SCRAPE_PATH[] = "/metrics";
constexpr char CONTENT_TYPE[] = "text/plain; version=0.0.4; charset=utf-8";

// A TCP socket bound at the endpoint's address and port, not yet listening.
kj::AutoCloseFd bindTcp(const MetricsEndpoint& endpoint) {
  bool six = endpoint.address.find(':') != std::string::npos;
  int fd = socket(six ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  KJ_SYSCALL(fd, "socket for --metrics", endpoint.describe());
  kj::AutoCloseFd owned(fd);
  int on = 1;
  KJ_SYSCALL(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)));
  sockaddr_storage address{};
  socklen_t length;
  if (six) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(endpoint.port);
    KJ_ASSERT(inet_pton(AF_INET6, endpoint.address.c_str(), &in6->sin6_addr) == 1);
    length = sizeof(sockaddr_in6);
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&address);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(endpoint.port);
    KJ_ASSERT(inet_pton(AF_INET, endpoint.address.c_str(), &in4->sin_addr) == 1);
    length = sizeof(sockaddr_in);
  }
  KJ_SYSCALL(bind(fd, reinterpret_cast<sockaddr*>(&address), length), "--metrics",
             endpoint.describe());
  return owned;
}

// The port the kernel gave a socket bound to port 0.
uint16_t boundPort(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  KJ_SYSCALL(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length));
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

}  // namespace _

std::string scrapeText(prometheus::Registry& counted, const Routing& routing) {
  prometheus::Registry scrape;
  addStateMetrics(routing, scrape);
  auto families = counted.Collect();
  auto state = scrape.Collect();
  families.insert(families.end(), state.begin(), state.end());
  return prometheus::TextSerializer().Serialize(families);
}

// GET /metrics: the scrape text; anything else a short error. The body of a request is never
// read (a GET has none; kj closes a connection whose unread body passes its grace bytes).
class MetricsServer::Service final : public kj::HttpService {
 public:
  Service(MetricsServer& server, prometheus::Registry& counted, const Routing& routing)
      : server_(server), counted_(counted), routing_(routing) {}

  kj::Promise<void> request(kj::HttpMethod method, kj::StringPtr url,
                            const kj::HttpHeaders&, kj::AsyncInputStream&,
                            Response& response) override {
    if (method != kj::HttpMethod::GET) {
      return answer(response, 405, "Method Not Allowed", "only GET /metrics is served\n");
    }
    std::string path(url.cStr());
    path = path.substr(0, path.find('?'));  // a scraper's parameters change nothing
    if (path != _::SCRAPE_PATH) {
      return answer(response, 404, "Not Found", "the metrics are at /metrics\n");
    }
    return answer(response, 200, "OK", scrapeText(counted_, routing_));
  }

 private:
  kj::Promise<void> answer(Response& response, unsigned status, kj::StringPtr text, std::string body) {
    kj::HttpHeaders headers(*server_.headers_);
    headers.set(server_.contentType_, status == 200 ? _::CONTENT_TYPE : "text/plain");
    auto stream = response.send(status, text, headers, body.size());
    auto written = stream->write(body.data(), body.size());
    return written.attach(kj::mv(stream), kj::mv(body));
  }

  MetricsServer& server_;
  prometheus::Registry& counted_;
  const Routing& routing_;
};

// One connection's place under MAX_METRICS_CONNECTIONS, given back when it ends.
class MetricsServer::Slot {
 public:
  explicit Slot(size_t& taken) : taken_(taken) { ++taken_; }
  ~Slot() { --taken_; }
  KJ_DISALLOW_COPY(Slot);

 private:
  size_t& taken_;
};

void MetricsServer::Errors::taskFailed(kj::Exception&& exception) {
  spdlog::warn("metrics connection ended with an error: {}", exception.getDescription().cStr());
}

MetricsServer::MetricsServer(const MetricsEndpoint& endpoint, kj::AsyncIoContext& io,
                             prometheus::Registry& counted, const Routing& routing)
    : endpoint_(endpoint), timer_(io.provider->getTimer()), tasks_(errors_) {
  bool unix = endpoint.kind == MetricsEndpoint::Kind::UNIX_SOCKET;
  kj::AutoCloseFd fd = unix ? bindOwnerOnlySocket(endpoint.path) : _::bindTcp(endpoint);
  KJ_SYSCALL(listen(fd.get(), _::LISTEN_BACKLOG), "--metrics", endpoint.describe());
  MetricsEndpoint bound = endpoint;
  if (!unix) bound.port = _::boundPort(fd.get());
  boundTo_ = bound.describe();
  receiver_ = io.lowLevelProvider->wrapListenSocketFd(kj::mv(fd),
                                                      kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
  kj::HttpHeaderTable::Builder builder;
  contentType_ = builder.add("Content-Type");
  headers_ = builder.build();
  service_ = kj::heap<Service>(*this, counted, routing);
  kj::HttpServerSettings settings;
  settings.headerTimeout = METRICS_HEADER_TIMEOUT;
  settings.pipelineTimeout = METRICS_HEADER_TIMEOUT;
  http_ = kj::heap<kj::HttpServer>(timer_, *headers_, *service_, settings);
}

MetricsServer::~MetricsServer() noexcept(false) {
  receiver_ = nullptr;
  if (endpoint_.kind == MetricsEndpoint::Kind::UNIX_SOCKET) unlink(endpoint_.path.c_str());
}

kj::Promise<void> MetricsServer::run() { return acceptLoop(); }

kj::Promise<void> MetricsServer::acceptLoop() {
  return receiver_->accept()
      .then(
          [this](kj::Own<kj::AsyncIoStream> stream) {
            if (connections_ < MAX_METRICS_CONNECTIONS) {
              auto slot = kj::heap<Slot>(connections_);
              auto served = http_->listenHttp(kj::mv(stream));
              tasks_.add(served.attach(kj::mv(slot)));
            }  // else: dropped here, which closes it
            return acceptLoop();
          },
          [this](kj::Exception&& exception) {
            spdlog::warn("metrics: accept failed, retrying: {}",
                         exception.getDescription().cStr());
            return timer_.afterDelay(_::ACCEPT_RETRY_DELAY).then([this]() { return acceptLoop(); });
          });
}

}  // namespace airlock::broker::metrics

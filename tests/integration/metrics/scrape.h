#pragma once
// A scraper for airlockd's --metrics endpoint, as Prometheus would be: one HTTP GET on a Unix
// socket or a TCP port, and the text format's samples read back by name and labels.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace airlock::testing {

struct HttpAnswer {
  int status = 0;        // 0: no well-formed answer
  std::string headers;   // the status line and headers as sent
  std::string body;
};

// GET `path` over the Unix socket `socketPath` or TCP 127.0.0.1:`port`; reads until the server
// closes (Connection: close). A failure to connect is an answer with status 0.
HttpAnswer httpGetUnix(const std::string& socketPath, const std::string& path = "/metrics",
                       const std::string& method = "GET");
HttpAnswer httpGetTcp(int port, const std::string& path = "/metrics");

int connectUnix(const std::string& socketPath);  // a connected socket, or -1

// One line of the text format: name, labels, value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<Sample> parseSamples(const std::string& text);
// The value of the sample named `name` whose labels are exactly `labels`; none if absent.
std::optional<double> sampleValue(const std::vector<Sample>& samples, const std::string& name,
                                  const std::map<std::string, std::string>& labels = {});

}  // namespace airlock::testing

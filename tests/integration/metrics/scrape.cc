#include "tests/integration/metrics/scrape.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <optional>
#include <sstream>

namespace airlock::testing {

namespace {

// The length an answer's headers announce; none if they do not.
std::optional<size_t> contentLength(const std::string& headers) {
  std::string lower = headers;
  for (char& c : lower) c = static_cast<char>(tolower(c));
  auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return std::nullopt;
  return std::stoul(lower.substr(at + 17));
}

// Sends `request` and reads one answer: its body to the announced length (the server keeps an
// HTTP/1.1 connection open for the next request), or to the end of the stream.
HttpAnswer exchange(int fd, const std::string& request) {
  HttpAnswer answer;
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return answer;
  }
  std::string all;
  char buffer[65536];
  ssize_t n;
  std::optional<size_t> wanted;
  size_t end = std::string::npos;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
    all.append(buffer, n);
    if (end == std::string::npos && (end = all.find("\r\n\r\n")) != std::string::npos) {
      wanted = contentLength(all.substr(0, end));
    }
    if (wanted && all.size() >= end + 4 + *wanted) break;
  }
  close(fd);
  if (all.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return answer;
  answer.status = std::stoi(all.substr(9, 3));
  answer.headers = all.substr(0, end);
  answer.body = all.substr(end + 4);
  return answer;
}

std::string request(const std::string& method, const std::string& path) {
  return method + " " + path + " HTTP/1.1\r\nHost: airlockd\r\nConnection: close\r\n\r\n";
}

}  // namespace

int connectUnix(const std::string& socketPath) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  strncpy(address.sun_path, socketPath.c_str(), sizeof(address.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

HttpAnswer httpGetUnix(const std::string& socketPath, const std::string& path,
                       const std::string& method) {
  int fd = connectUnix(socketPath);
  if (fd < 0) return {};
  return exchange(fd, request(method, path));
}

HttpAnswer httpGetTcp(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return {};
  }
  return exchange(fd, request("GET", path));
}

std::vector<Sample> parseSamples(const std::string& text) {
  std::vector<Sample> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample sample;
    size_t at = line.find_first_of("{ ");
    sample.name = line.substr(0, at);
    if (at != std::string::npos && line[at] == '{') {
      ++at;
      while (at < line.size() && line[at] != '}') {
        size_t eq = line.find('=', at);
        std::string name = line.substr(at, eq - at);
        std::string value;
        size_t i = eq + 2;  // past ="
        for (; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\' && i + 1 < line.size()) ++i;
          value += line[i];
        }
        sample.labels[name] = value;
        at = i + 1;
        if (at < line.size() && line[at] == ',') ++at;
      }
      ++at;  // past }
    }
    sample.value = std::stod(line.substr(line.find_first_not_of(' ', at)));
    samples.push_back(sample);
  }
  return samples;
}

std::optional<double> sampleValue(const std::vector<Sample>& samples, const std::string& name,
                                  const std::map<std::string, std::string>& labels) {
  for (const Sample& sample : samples) {
    if (sample.name == name && sample.labels == labels) return sample.value;
  }
  return std::nullopt;
}

}  // namespace airlock::testing

// A worker for integration tests: each method exercises one path through broker and sandbox.
//
//   echo           answers its payload
//   read PATH      fs.open(PATH, read) through the broker; answers the file's bytes
//   write PATH\nDATA  fs.open(PATH, write|create|truncate); writes DATA
//   open-directly PATH  open(2) without the broker; answers "errno NAME" or "opened"
//   crash          dereferences null (a real fault, which even a PID-namespace init cannot ignore)
//   hang           sleeps far longer than any test's call timeout
//   exit           exits with status 3 mid-call

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "sdk/worker/worker.h"

namespace {

airlock::Reply refusal(const airlock::OpenedFile& file) {
  return airlock::Reply::error(std::string(file.wasDenied() ? "DENIED: " : "FAILED: ") +
                               file.message());
}

airlock::Reply readFile(airlock::Call& call) {
  auto file = call.fs().open(std::string(call.payload()), airlock::OpenFlags::readOnly());
  if (!file.ok()) return refusal(file);
  std::string content;
  char buffer[4096];
  ssize_t n;
  while ((n = read(file.fd(), buffer, sizeof(buffer))) > 0) content.append(buffer, n);
  if (n < 0) return airlock::Reply::error(std::string("read: ") + strerror(errno));
  return airlock::Reply::ok(content);
}

airlock::Reply writeFile(airlock::Call& call) {
  std::string payload(call.payload());
  auto newline = payload.find('\n');
  if (newline == std::string::npos) return airlock::Reply::error("payload is PATH\\nDATA");
  airlock::OpenFlags flags;
  flags.write = flags.create = flags.truncate = true;
  auto file = call.fs().open(payload.substr(0, newline), flags);
  if (!file.ok()) return refusal(file);
  std::string data = payload.substr(newline + 1);
  if (write(file.fd(), data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    return airlock::Reply::error(std::string("write: ") + strerror(errno));
  }
  return airlock::Reply::ok("wrote");
}

airlock::Reply openDirectly(airlock::Call& call) {
  std::string path(call.payload());
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return airlock::Reply::ok("opened");
  }
  return airlock::Reply::ok(std::string("errno ") + strerrorname_np(errno));
}

}  // namespace

int main(int argc, char** argv) {
  airlock::Worker worker(argc, argv);
  worker.method("echo", [](airlock::Call& call) {
    return airlock::Reply::ok(std::string(call.payload()));
  });
  worker.method("read", readFile);
  worker.method("write", writeFile);
  worker.method("open-directly", openDirectly);
  worker.method("crash", [](airlock::Call&) -> airlock::Reply {
    *static_cast<volatile int*>(nullptr) = 1;
    return airlock::Reply::error("unreachable");
  });
  worker.method("hang", [](airlock::Call&) {
    struct timespec forever = {3600, 0};
    nanosleep(&forever, nullptr);
    return airlock::Reply::ok("woke");
  });
  worker.method("exit", [](airlock::Call&) -> airlock::Reply { _exit(3); });
  return worker.serve();
}

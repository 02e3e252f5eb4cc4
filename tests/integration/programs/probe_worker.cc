// A worker for integration tests: each method exercises one path through broker and sandbox.
//
//   echo           answers its payload
//   read PATH      fs.open(PATH, read) through the broker; answers the file's bytes
//   write PATH\nDATA  fs.open(PATH, write|create|truncate); writes DATA
//   open-directly PATH  open(2) without the broker; answers "errno NAME" or "opened"
//   read-directly PATH  open(2) and read(2), as a library does behind the SDK's back; answers
//                  the bytes or "errno NAME" (brokered where the unit has broker_syscalls)
//   crash          dereferences null (a real fault, which even a PID-namespace init cannot ignore)
//   hang           sleeps far longer than any test's call timeout
//   sleep MS       says "sleeping MS" on stderr (the broker logs it), sleeps, answers "slept"
//   exit           exits with status 3 mid-call
//   exit-clean     exits with status 0 mid-call (a clean exit, for restart = "on-failure")
//   spam-fds       hostile: writes junk bytes carrying SCM_RIGHTS fds straight onto the channel
//   secret NAME    secrets.get(NAME) through the broker; answers the value's bytes
//   log TEXT       log(info, TEXT) through the broker
//   invoke UNIT METHOD REST  units().invoke(UNIT, METHOD, REST); answers "ok:REPLY", "error:MSG",
//                  "denied:MSG" or "failed:MSG" (always as an ok reply, so nesting shows each
//                  level's answer: "invoke b invoke c echo hi" answers "ok:ok:hi")
//   log-flood N    N log(info) lines as fast as the broker takes them
//   connect HOST\nPORT\nDATA  net.connect(HOST, PORT); sends DATA, half-closes, answers all it
//                  reads back
//   connect-unix PATH\nDATA   net.connectUnix(PATH); the same round trip
//   socket-directly  socket(AF_INET) without the broker: refused by seccomp, the worker dies
//   statfs PATH    statfs(2) directly, outside the default syscall groups (group fs-metadata):
//                  answers "statfs ok" where the unit's [sandbox] syscalls allows it
//   abort          abort(): SIGABRT, as a library's failed assertion does
//   oom            allocates until the address-space rlimit refuses, then aborts as a library
//                  that cannot handle a failed malloc does
//   spin           burns CPU for ever (past any call deadline), never sleeping
//   touch-memory   allocates and writes 1 MiB blocks for ever: every page is really used, so a
//                  cgroup memory limit (not the address-space rlimit) is what stops it
//   threads N      starts up to N threads that sleep for ever; answers "started K" where K is
//                  how many the kernel let it start (a pids limit, or the threads rlimit)
//   burn MS N      N threads each burn CPU for MS ms of wall time; answers "burned"
//   close-channel  writes half a Cap'n Proto frame, then shuts the channel down mid-message
// Hostile bytes written raw onto the channel (tests/integration/support/hostile_frames.h):
//   junk-bytes, huge-segment-count, huge-segment, deep-nesting
//   bootstrap-flood N  N rpc Bootstrap requests to the broker, never reading an answer
//   sleep-invoke MS UNIT METHOD REST  sleeps MS, then does what `invoke UNIT METHOD REST` does
//   answer-bytes N  answers N bytes of 'a'
//   error-bytes N   fails with an error text of N bytes of 'e'
//   print TEXT      writes TEXT and a newline to stderr, raw (control bytes and all)
//   print-flood N   writes N short lines to stdout as fast as the pipe takes them
//   remember MARKER answers the marker the previous call left in this worker's memory ("nothing"
//                   if none), then keeps MARKER in its place: what a reused worker carries over

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "sdk/worker/worker.h"
#include "tests/integration/support/hostile_frames.h"

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
  auto file = call.fs().open(payload.substr(0, newline),
                             airlock::Open::WRITE | airlock::Open::CREATE | airlock::Open::TRUNCATE);
  if (!file.ok()) return refusal(file);
  std::string data = payload.substr(newline + 1);
  if (write(file.fd(), data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    return airlock::Reply::error(std::string("write: ") + strerror(errno));
  }
  return airlock::Reply::ok("wrote");
}

// PATH\nDATA: appends DATA to PATH, opened write,append (no create, no truncate): what a worker
// handed an append-only file can do with it.
airlock::Reply appendFile(airlock::Call& call) {
  std::string payload(call.payload());
  auto newline = payload.find('\n');
  if (newline == std::string::npos) return airlock::Reply::error("payload is PATH\\nDATA");
  auto file =
      call.fs().open(payload.substr(0, newline), airlock::Open::WRITE | airlock::Open::APPEND);
  if (!file.ok()) return refusal(file);
  std::string data = payload.substr(newline + 1);
  if (write(file.fd(), data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    return airlock::Reply::error(std::string("write: ") + strerror(errno));
  }
  return airlock::Reply::ok("appended");
}

// Opens the payload's path for reading, then tries to write through that descriptor: what a
// worker holding a read grant can do with the file it was handed. "errno EBADF" when it cannot.
airlock::Reply writeThroughRead(airlock::Call& call) {
  auto file = call.fs().open(std::string(call.payload()), airlock::OpenFlags::readOnly());
  if (!file.ok()) return refusal(file);
  if (write(file.fd(), "x", 1) == 1) return airlock::Reply::ok("wrote");
  return airlock::Reply::ok(std::string("errno ") + strerrorname_np(errno));
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

airlock::Reply readDirectly(airlock::Call& call) {
  std::string path(call.payload());
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return airlock::Reply::ok(std::string("errno ") + strerrorname_np(errno));
  std::string bytes;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) bytes.append(buffer, static_cast<size_t>(n));
  close(fd);
  return airlock::Reply::ok(bytes);
}

// Each message: junk bytes (never a valid Cap'n Proto frame) with four fds attached.
airlock::Reply spamFds(airlock::Call&) {
  constexpr int CHANNEL = 3, MESSAGES = 64, FDS_PER_MESSAGE = 4;
  char junk[64];
  memset(junk, 0xff, sizeof(junk));
  int fds[FDS_PER_MESSAGE] = {0, 1, 2, CHANNEL};
  char control[CMSG_SPACE(sizeof(fds))];
  for (int i = 0; i < MESSAGES; ++i) {
    iovec io = {junk, sizeof(junk)};
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(fds));
    memcpy(CMSG_DATA(header), fds, sizeof(fds));
    if (sendmsg(CHANNEL, &message, MSG_NOSIGNAL) < 0) break;
  }
  return airlock::Reply::ok("sent");
}

constexpr int CHANNEL_FD = 3;  // the broker channel, as the sandbox hands it over

// Writes all of `bytes` to the channel, waiting whenever it is full (the SDK made it
// non-blocking); a hostile method has nothing to do once the broker hangs up.
void writeToChannel(const void* bytes, size_t size) {
  auto* at = static_cast<const char*>(bytes);
  while (size > 0) {
    ssize_t n = send(CHANNEL_FD, at, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EAGAIN) {
      pollfd writable{CHANNEL_FD, POLLOUT, 0};
      poll(&writable, 1, -1);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    at += n;
    size -= static_cast<size_t>(n);
  }
}

// Hostile bytes onto the channel, between two of the SDK's own messages (the method runs while
// the SDK's event loop is idle).
airlock::Reply writeHostile(const std::string& bytes) {
  writeToChannel(bytes.data(), bytes.size());
  return airlock::Reply::ok("sent");
}

airlock::Reply closeChannelMidMessage(airlock::Call&) {
  std::string half = airlock::testing::hostile::truncatedFrame();
  writeToChannel(half.data(), half.size());
  shutdown(CHANNEL_FD, SHUT_RDWR);
  return airlock::Reply::ok("closed");
}

airlock::Reply getSecret(airlock::Call& call) {
  auto secret = call.secrets().get(std::string(call.payload()));
  if (!secret.ok()) {
    return airlock::Reply::error(std::string(secret.wasDenied() ? "DENIED: " : "FAILED: ") +
                                 secret.message());
  }
  return airlock::Reply::ok(secret.value());
}

airlock::Reply invokeWith(airlock::Call& call, const std::string& payload) {
  size_t unitEnd = payload.find(' ');
  if (unitEnd == std::string::npos) return airlock::Reply::error("payload is UNIT METHOD [REST]");
  size_t methodEnd = payload.find(' ', unitEnd + 1);
  std::string method = payload.substr(unitEnd + 1, methodEnd == std::string::npos
                                                       ? std::string::npos
                                                       : methodEnd - unitEnd - 1);
  std::string rest = methodEnd == std::string::npos ? "" : payload.substr(methodEnd + 1);
  auto result = call.units().invoke(payload.substr(0, unitEnd), method, rest);
  switch (result.kind()) {
    case airlock::InvokeResult::Kind::OK: return airlock::Reply::ok("ok:" + result.payload());
    case airlock::InvokeResult::Kind::ERROR: return airlock::Reply::ok("error:" + result.message());
    case airlock::InvokeResult::Kind::DENIED:
      return airlock::Reply::ok("denied:" + result.message());
    case airlock::InvokeResult::Kind::FAILED:
      return airlock::Reply::ok("failed:" + result.message());
  }
  return airlock::Reply::error("unknown invoke answer");
}

airlock::Reply invoke(airlock::Call& call) { return invokeWith(call, std::string(call.payload())); }

airlock::Reply logFlood(airlock::Call& call) {
  int lines = std::stoi(std::string(call.payload()));
  for (int i = 0; i < lines; ++i) {
    call.log(airlock::LogLevel::INFO, "flood line " + std::to_string(i));
  }
  return airlock::Reply::ok("logged");
}

// Sends `data` on a brokered socket, half-closes it and answers everything the peer sent back:
// the received socket is used with plain read/write/shutdown inside the sandbox.
airlock::Reply roundTrip(airlock::ConnectedSocket socket, const std::string& data) {
  if (!socket.ok()) return refusal(socket);
  if (write(socket.fd(), data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    return airlock::Reply::error(std::string("write: ") + strerror(errno));
  }
  if (shutdown(socket.fd(), SHUT_WR) != 0) {
    return airlock::Reply::error(std::string("shutdown: ") + strerror(errno));
  }
  std::string answer;
  char buffer[4096];
  ssize_t n;
  while ((n = read(socket.fd(), buffer, sizeof(buffer))) > 0) answer.append(buffer, n);
  if (n < 0) return airlock::Reply::error(std::string("read: ") + strerror(errno));
  return airlock::Reply::ok(answer);
}

airlock::Reply connectTcp(airlock::Call& call) {
  std::string payload(call.payload());
  size_t first = payload.find('\n'), second = payload.find('\n', first + 1);
  if (second == std::string::npos) return airlock::Reply::error("payload is HOST\\nPORT\\nDATA");
  auto port = static_cast<uint16_t>(std::stoul(payload.substr(first + 1, second - first - 1)));
  return roundTrip(call.net().connect(payload.substr(0, first), port),
                   payload.substr(second + 1));
}

airlock::Reply connectUnix(airlock::Call& call) {
  std::string payload(call.payload());
  size_t newline = payload.find('\n');
  if (newline == std::string::npos) return airlock::Reply::error("payload is PATH\\nDATA");
  return roundTrip(call.net().connectUnix(payload.substr(0, newline)),
                   payload.substr(newline + 1));
}

}  // namespace

int main(int argc, char** argv) {
  airlock::Worker worker(argc, argv);
  worker.method("remember", [](airlock::Call& call) {
    static std::string held = "nothing";  // lives as long as the worker process
    std::string previous = held;
    held = std::string(call.payload());
    return airlock::Reply::ok(previous);
  });
  worker.method("echo", [](airlock::Call& call) {
    return airlock::Reply::ok(std::string(call.payload()));
  });
  worker.method("read", readFile);
  worker.method("write", writeFile);
  worker.method("write-through-read", writeThroughRead);
  worker.method("append", appendFile);
  worker.method("open-directly", openDirectly);
  worker.method("read-directly", readDirectly);
  worker.method("crash", [](airlock::Call&) -> airlock::Reply {
    *static_cast<volatile int*>(nullptr) = 1;
    return airlock::Reply::error("unreachable");
  });
  worker.method("hang", [](airlock::Call&) {
    struct timespec forever = {3600, 0};
    nanosleep(&forever, nullptr);
    return airlock::Reply::ok("woke");
  });
  worker.method("spam-fds", spamFds);
  worker.method("secret", getSecret);
  worker.method("log", [](airlock::Call& call) {
    call.log(airlock::LogLevel::INFO, call.payload());
    return airlock::Reply::ok("logged");
  });
  worker.method("log-flood", logFlood);
  worker.method("connect", connectTcp);
  worker.method("connect-unix", connectUnix);
  worker.method("socket-directly", [](airlock::Call&) -> airlock::Reply {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) close(fd);
    return airlock::Reply::error("socket was not refused");
  });
  worker.method("statfs", [](airlock::Call& call) -> airlock::Reply {
    struct statfs info;
    if (statfs(std::string(call.payload()).c_str(), &info) != 0) {
      return airlock::Reply::error(std::string("statfs: ") + strerror(errno));
    }
    return airlock::Reply::ok("statfs ok");
  });
  worker.method("invoke", invoke);
  worker.method("ptrace", [](airlock::Call&) -> airlock::Reply {
    // PTRACE_ATTACH to pid 1 of its own namespace (itself): refused by seccomp before it runs.
    syscall(SYS_ptrace, 16, 1, 0, 0);
    return airlock::Reply::error("ptrace was not refused");
  });
  worker.method("sleep", [](airlock::Call& call) {
    long ms = std::stol(std::string(call.payload()));
    fprintf(stderr, "sleeping %ld\n", ms);
    fflush(stderr);
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&pause, nullptr);
    return airlock::Reply::ok("slept");
  });
  worker.method("exit", [](airlock::Call&) -> airlock::Reply { _exit(3); });
  worker.method("exit-clean", [](airlock::Call&) -> airlock::Reply { _exit(0); });
  worker.method("abort", [](airlock::Call&) -> airlock::Reply { abort(); });
  worker.method("oom", [](airlock::Call&) -> airlock::Reply {
    constexpr size_t BLOCK = 64u << 20;
    for (;;) {
      void* block = malloc(BLOCK);
      if (block == nullptr) abort();
      memset(block, 1, 4096);  // leaked on purpose: the point is to reach the limit
    }
  });
  worker.method("spin", [](airlock::Call&) -> airlock::Reply {
    // An empty asm the compiler must assume has effects: the loop is not optimised away.
    for (;;) asm volatile("" ::: "memory");
  });
  worker.method("touch-memory", [](airlock::Call&) -> airlock::Reply {
    constexpr size_t BLOCK = 1u << 20;
    for (;;) {
      void* block = malloc(BLOCK);
      if (block == nullptr) abort();
      memset(block, 1, BLOCK);  // leaked on purpose: every page is resident
    }
  });
  worker.method("threads", [](airlock::Call& call) {
    unsigned long wanted = std::stoul(std::string(call.payload()));
    unsigned long started = 0;
    for (; started < wanted; ++started) {
      pthread_t thread;
      auto sleepForever = [](void*) -> void* {
        struct timespec hour = {3600, 0};
        for (;;) nanosleep(&hour, nullptr);
      };
      if (pthread_create(&thread, nullptr, sleepForever, nullptr) != 0) break;
      pthread_detach(thread);
    }
    return airlock::Reply::ok("started " + std::to_string(started));
  });
  worker.method("burn", [](airlock::Call& call) {
    std::string payload(call.payload());
    long ms = std::stol(payload.substr(0, payload.find(' ')));
    unsigned long count = std::stoul(payload.substr(payload.find(' ') + 1));
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    std::vector<std::thread> burners;
    for (unsigned long i = 0; i < count; ++i) {
      burners.emplace_back([until]() {
        while (std::chrono::steady_clock::now() < until) asm volatile("" ::: "memory");
      });
    }
    for (auto& burner : burners) burner.join();
    return airlock::Reply::ok("burned");
  });
  worker.method("close-channel", closeChannelMidMessage);
  namespace hostile = airlock::testing::hostile;
  worker.method("junk-bytes", [](airlock::Call&) { return writeHostile(hostile::junk()); });
  worker.method("huge-segment-count",
                [](airlock::Call&) { return writeHostile(hostile::hugeSegmentCount()); });
  worker.method("huge-segment",
                [](airlock::Call&) { return writeHostile(hostile::hugeSegment()); });
  worker.method("deep-nesting",
                [](airlock::Call&) { return writeHostile(hostile::deepNesting()); });
  worker.method("bootstrap-flood", [](airlock::Call& call) {
    // Question ids far from the ones the SDK itself uses.
    return writeHostile(hostile::bootstrapFlood(
        static_cast<uint32_t>(std::stoul(std::string(call.payload()))), 1u << 30));
  });
  worker.method("sleep-invoke", [](airlock::Call& call) {
    std::string payload(call.payload());
    size_t msEnd = payload.find(' ');
    long ms = std::stol(payload.substr(0, msEnd));
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&pause, nullptr);
    return invokeWith(call, payload.substr(msEnd + 1));
  });
  worker.method("answer-bytes", [](airlock::Call& call) {
    return airlock::Reply::ok(std::string(std::stoul(std::string(call.payload())), 'a'));
  });
  worker.method("error-bytes", [](airlock::Call& call) {
    return airlock::Reply::error(std::string(std::stoul(std::string(call.payload())), 'e'));
  });
  worker.method("print", [](airlock::Call& call) {
    std::string line = std::string(call.payload()) + "\n";
    fwrite(line.data(), 1, line.size(), stderr);
    fflush(stderr);
    return airlock::Reply::ok("printed");
  });
  worker.method("print-flood", [](airlock::Call& call) {
    unsigned long lines = std::stoul(std::string(call.payload()));
    for (unsigned long i = 0; i < lines; ++i) printf("flood line %lu\n", i);
    fflush(stdout);
    return airlock::Reply::ok("printed");
  });
  return worker.serve();
}

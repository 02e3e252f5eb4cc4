// A plain program, not written against the worker SDK, that opens files the ways libraries do
// behind the SDK's back: raw syscalls from another thread, *at calls on a directory fd, and a
// path buffer another thread keeps rewriting (to try to make the broker check one path and the
// kernel open another). Run under `airlock run` by the transparent brokering tests.
//
//   unmodified_io thread-open PATH          raw openat from a new thread; prints the contents
//                                           and whether the fd is close-on-exec
//   unmodified_io at-dir DIR NAME           open DIR, then openat(dirfd, NAME); prints contents
//   unmodified_io flip GRANTED OTHER ROUNDS opens a path another thread flips between GRANTED
//                                           and OTHER; exit 3 if OTHER's content is ever read
//   unmodified_io gadget-at DIR NAME        open DIR, then openat(dirfd, NAME) made from the
//                                           native-first library's fixed syscall instruction
//   unmodified_io connect-flip GRANTED_PORT OTHER_PORT ROUNDS
//                                           connects to 127.0.0.1 with a sockaddr another thread
//                                           flips between the two ports; prints what answered

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "sandbox/native_first/gadget.h"

namespace {

std::string readAllFrom(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) out.append(buffer, static_cast<size_t>(n));
  return out;
}

int rawOpenat(int dirfd, const char* path, int flags) {
  return static_cast<int>(syscall(SYS_openat, dirfd, path, flags, 0));
}

struct ThreadOpen {
  const char* path;
  int fd = -1;
  int error = 0;
};

void* openInThread(void* arg) {
  auto* job = static_cast<ThreadOpen*>(arg);
  job->fd = rawOpenat(AT_FDCWD, job->path, O_RDONLY | O_CLOEXEC);
  job->error = errno;
  return nullptr;
}

int threadOpen(const char* path) {
  ThreadOpen job{path};
  pthread_t thread;
  if (pthread_create(&thread, nullptr, openInThread, &job) != 0) return 2;
  pthread_join(thread, nullptr);
  if (job.fd < 0) {
    printf("error=%s\n", strerrorname_np(job.error));
    return 1;
  }
  int fdFlags = fcntl(job.fd, F_GETFD);
  printf("cloexec=%d\n%s", (fdFlags & FD_CLOEXEC) ? 1 : 0, readAllFrom(job.fd).c_str());
  return 0;
}

int atDir(const char* dir, const char* name) {
  int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) {
    printf("open %s: error=%s\n", dir, strerrorname_np(errno));
    return 1;
  }
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    printf("openat %s: error=%s\n", name, strerrorname_np(errno));
    return 1;
  }
  printf("%s", readAllFrom(fd).c_str());
  return 0;
}

// The path the opener reads, rewritten without pause by the flipper.
char flipped[4096];
std::atomic<bool> stop{false};
std::string granted, other;

void* flipPath(void*) {
  while (!stop.load(std::memory_order_relaxed)) {
    memcpy(flipped, other.c_str(), other.size() + 1);
    memcpy(flipped, granted.c_str(), granted.size() + 1);
  }
  return nullptr;
}

int flip(const char* grantedPath, const char* otherPath, int rounds) {
  granted = grantedPath;
  other = otherPath;
  int otherFd = open(otherPath, O_RDONLY);  // outside: learn what the other file holds, if we can
  std::string otherContent = otherFd >= 0 ? readAllFrom(otherFd) : "";
  memcpy(flipped, granted.c_str(), granted.size() + 1);
  pthread_t thread;
  if (pthread_create(&thread, nullptr, flipPath, nullptr) != 0) return 2;
  int opened = 0, refused = 0, leaked = 0;
  for (int i = 0; i < rounds; ++i) {
    int fd = rawOpenat(AT_FDCWD, flipped, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      ++refused;
      continue;
    }
    ++opened;
    std::string content = readAllFrom(fd);
    close(fd);
    if (content.find("SECRET") != std::string::npos) ++leaked;
  }
  stop = true;
  pthread_join(thread, nullptr);
  printf("opened=%d refused=%d leaked=%d outside_view=%zu\n", opened, refused, leaked,
         otherContent.size());
  return leaked > 0 ? 3 : 0;
}

// What a hostile program can do with the native-first instruction: call it with a descriptor the
// broker passed. Prints the contents read, or the errno.
int gadgetAt(const char* dir, const char* name) {
  int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) {
    printf("dir: %s\n", strerrorname_np(errno));
    return 1;
  }
  using Gadget = long (*)(long, long, long, long, long, long, long);
  auto gadget = reinterpret_cast<Gadget>(static_cast<uintptr_t>(AIRLOCK_GADGET_ADDRESS));
  long fd = gadget(SYS_openat, dirfd, reinterpret_cast<long>(name), O_RDONLY | O_CLOEXEC, 0, 0, 0);
  if (fd < 0) {
    printf("gadget-at: %s\n", strerrorname_np(static_cast<int>(-fd)));
    return 0;
  }
  printf("gadget-at read: %s\n", readAllFrom(static_cast<int>(fd)).c_str());
  return 0;
}

// The address the connector passes, its port rewritten without pause by the flipper.
sockaddr_in flippedAddress;
uint16_t grantedPort, otherPort;

void* flipPort(void*) {
  volatile uint16_t* port = &flippedAddress.sin_port;
  while (!stop.load(std::memory_order_relaxed)) {
    *port = htons(otherPort);
    *port = htons(grantedPort);
  }
  return nullptr;
}

// Each connection's peer port, as the connected socket reports it: OTHER_PORT means the flip
// reached a port the rules refuse.
int connectFlip(int granted, int other, int rounds) {
  grantedPort = static_cast<uint16_t>(granted);
  otherPort = static_cast<uint16_t>(other);
  flippedAddress.sin_family = AF_INET;
  flippedAddress.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  flippedAddress.sin_port = htons(grantedPort);
  pthread_t thread;
  if (pthread_create(&thread, nullptr, flipPort, nullptr) != 0) return 2;
  int connected = 0, refused = 0, leaked = 0;
  for (int i = 0; i < rounds; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 2;
    if (connect(fd, reinterpret_cast<sockaddr*>(&flippedAddress), sizeof(flippedAddress)) != 0) {
      ++refused;
    } else {
      ++connected;
      sockaddr_in peer{};
      socklen_t length = sizeof(peer);
      if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0 &&
          ntohs(peer.sin_port) == otherPort) {
        ++leaked;
      }
    }
    close(fd);
  }
  stop = true;
  pthread_join(thread, nullptr);
  printf("connected=%d refused=%d leaked=%d\n", connected, refused, leaked);
  return leaked > 0 ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "thread-open" && argc == 3) return threadOpen(argv[2]);
  if (mode == "at-dir" && argc == 4) return atDir(argv[2], argv[3]);
  if (mode == "flip" && argc == 5) return flip(argv[2], argv[3], atoi(argv[4]));
  if (mode == "gadget-at" && argc == 4) return gadgetAt(argv[2], argv[3]);
  if (mode == "connect-flip" && argc == 5) {
    return connectFlip(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
  }
  fprintf(stderr, "usage: unmodified_io thread-open PATH | at-dir DIR NAME | flip A B ROUNDS | "
                  "gadget-at DIR NAME | connect-flip PORT OTHER ROUNDS\n");
  return 2;
}

// airlockd under a service manager, played by the test: the readiness datagrams it sends to
// NOTIFY_SOCKET (a path or an abstract name the test binds), and socket activation (a listening
// socket the test binds, passed as fd 3 with LISTEN_FDS/LISTEN_PID), each checked with a real
// authenticated call; and the sockets it must refuse.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <kj/io.h>

#include <cstring>
#include <string>

#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

const std::map<std::string, std::string> POLICIES = {
    {"probe.toml",
     "[unit]\nname = \"probe\"\nworker = \"test-probe_worker\"\n\n[[rule]]\nid = \"tester\"\n"
     "allow = \"call\"\ncaller = [\"tester\"]\nmethod = [\"echo\"]\n"}};

// Not a timing threshold: only how long a broken airlockd may keep the test waiting.
constexpr int GIVE_UP_MS = 60000;

sockaddr_un unixAddress(const std::string& name, socklen_t& length) {
  sockaddr_un address {};
  address.sun_family = AF_UNIX;
  memcpy(address.sun_path, name.data(), name.size());
  bool abstract = name[0] == '@';
  if (abstract) address.sun_path[0] = '\0';
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                  (abstract ? 0 : 1));
  return address;
}

kj::AutoCloseFd boundSocket(int type, const std::string& name) {
  kj::AutoCloseFd fd(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  socklen_t length;
  auto address = unixAddress(name, length);
  EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length), 0) << strerror(errno);
  return fd;
}

// The next datagram, or "" if none came.
std::string receive(int fd) {
  pollfd ready{fd, POLLIN, 0};
  if (poll(&ready, 1, GIVE_UP_MS) != 1) return "";
  char buffer[4096];
  ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
  return n > 0 ? std::string(buffer, n) : "";
}

class ServiceManagerTest : public ::testing::TestWithParam<bool> {};  // abstract NOTIFY_SOCKET?

TEST_P(ServiceManagerTest, ReadyIsSentOnlyOnceTheSocketAnswersHandshakesAndStoppingOnDrain) {
  TempDir dir;
  std::string name = GetParam() ? "@airlock-notify-test-" + std::to_string(getpid())
                                : dir.file("notify.sock");
  auto notify = boundSocket(SOCK_DGRAM, name);
  BrokerOptions options;
  options.environment = {"NOTIFY_SOCKET=" + name};
  BrokerProcess broker(POLICIES, {}, options);

  std::string ready = receive(notify.get());
  ASSERT_EQ(ready.rfind("READY=1\nSTATUS=serving 1 unit(s), policy revision ", 0), 0)
      << ready << "\n" << broker.log();
  // At once, no retry: the socket that READY=1 promised answers a real authenticated call.
  auto outcome = broker.connect().unit("probe").call("echo", "after READY=1");
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  EXPECT_EQ(outcome.payload(), "after READY=1");

  ASSERT_EQ(broker.stop(), 0) << broker.log();
  std::string stopping = receive(notify.get());
  EXPECT_EQ(stopping.rfind("STOPPING=1\nSTATUS=draining: 0 call(s) in flight (signal ", 0), 0)
      << stopping;
}

INSTANTIATE_TEST_SUITE_P(PathAndAbstractName, ServiceManagerTest, ::testing::Bool());

TEST(SocketActivation, APassedListeningSocketServesARealAuthenticatedCallAndIsLeftInPlace) {
  TempDir dir;
  std::string path = dir.file("activated.sock");
  auto listening = boundSocket(SOCK_STREAM, path);
  ASSERT_EQ(listen(listening.get(), 16), 0);
  BrokerOptions options;
  options.socketPath = path;
  options.listenFd = listening.get();
  BrokerProcess broker(POLICIES, {}, options);
  listening = nullptr;  // airlockd holds it now, as systemd would too

  auto outcome = broker.connect().unit("probe").call("echo", "through fd 3");
  ASSERT_TRUE(outcome.ok()) << outcome.describe() << "\n" << broker.log();
  EXPECT_EQ(outcome.payload(), "through fd 3");
  EXPECT_NE(broker.log().find("serving on the socket the service manager passed"),
            std::string::npos) << broker.log();
  auto calls = broker.auditRecords({{"event", "call"}, {"decision", "allow"}});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["rule"], "tester");

  ASSERT_EQ(broker.stop(), 0) << broker.log();
  // The socket file is the manager's: airlockd leaves it.
  EXPECT_EQ(access(path.c_str(), F_OK), 0);
}

TEST(SocketActivation, ASocketThatIsNotAListeningUnixStreamSocketIsRefusedSayingWhy) {
  TempDir dir;
  struct Case {
    std::string what;
    kj::AutoCloseFd fd;
    std::string expected;
  };
  std::string path = dir.file("passed.sock");
  std::vector<Case> cases;
  cases.push_back({"not listening", boundSocket(SOCK_STREAM, path),
                   "LISTEN_FDS: fd 3 is not listening (listen() not called); refusing it"});
  cases.push_back({"datagram", boundSocket(SOCK_DGRAM, dir.file("dgram.sock")),
                   "LISTEN_FDS: fd 3 is not a stream socket; refusing it"});
  int ends[2];
  ASSERT_EQ(pipe2(ends, O_CLOEXEC), 0);
  kj::AutoCloseFd writeEnd(ends[1]);
  cases.push_back({"pipe", kj::AutoCloseFd(ends[0]),
                   "LISTEN_FDS: fd 3 is not a socket; refusing it"});
  auto elsewhere = boundSocket(SOCK_STREAM, dir.file("elsewhere.sock"));
  ASSERT_EQ(listen(elsewhere.get(), 1), 0);
  cases.push_back({"another path", kj::mv(elsewhere),
                   "LISTEN_FDS: fd 3 is bound to \"" + dir.file("elsewhere.sock") +
                       "\", not to --socket " + path});
  for (auto& c : cases) {
    BrokerOptions options;
    options.socketPath = path;
    options.listenFd = c.fd.get();
    BrokerProcess broker(POLICIES, {}, options);
    EXPECT_EQ(broker.waitForExit(), 1) << c.what << "\n" << broker.log();
    EXPECT_NE(broker.log().find("airlockd: " + c.expected), std::string::npos)
        << c.what << "\n" << broker.log();
    EXPECT_TRUE(broker.auditRecords({{"event", "broker.start"}}).empty()) << c.what;
  }
}

}  // namespace
}  // namespace airlock::testing

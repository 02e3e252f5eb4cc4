// Hostile peers on both of airlockd's ends: a worker writing malformed Cap'n Proto onto its
// channel, and a host process doing the same on the socket, before and after authenticating.
// Each attack must end that peer's connection (a worker is killed and replaced), be recorded
// where the broker can record it, and leave the broker serving the next call.
//
// Junk carrying fds from a worker is BrokerTest.FdsAndJunkAWorkerSendsNeverEnterTheBroker; junk
// and malformed handshakes from a host before authenticating are in auth_test.cc.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/io.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <optional>

#include "sdk/host/client.h"
#include "sdk/host/handshake.h"
#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/hostile_frames.h"

namespace airlock::testing {
namespace {

std::string probePolicy() {
  return R"(
[unit]
name = "probe"
worker = "test-probe_worker"
call_timeout_ms = 10000

[[rule]]
id = "tester-calls-probe"
allow = "call"
caller = ["tester"]
method = ["*"]
)";
}

class HostilePeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"probe.toml", probePolicy()}});
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  void expectStillServing(const std::string& after) {
    auto outcome = broker_->connect().unit("probe").call("echo", "after " + after);
    EXPECT_TRUE(outcome.ok()) << "after " << after << ": " << outcome.describe() << "\n"
                              << broker_->log();
    EXPECT_EQ(outcome.payload(), "after " + after);
  }

  std::unique_ptr<BrokerProcess> broker_;
};

// The worker's attacks, each a probe worker method (programs/probe_worker.cc) writing the bytes
// of hostile_frames.h onto its channel in the middle of a call.
struct WorkerAttack {
  std::string method, payload;
};

TEST_F(HostilePeerTest, EveryMalformedFrameFromAWorkerKillsAndReplacesThatWorkerAndIsAudited) {
  std::vector<WorkerAttack> attacks = {
      {"junk-bytes", ""},     {"huge-segment-count", ""}, {"huge-segment", ""},
      {"deep-nesting", ""},   {"close-channel", ""},
  };
  for (auto& attack : attacks) {
    SCOPED_TRACE(attack.method);
    auto outcome = broker_->connect().unit("probe").call(attack.method, attack.payload);
    EXPECT_EQ(outcome.errorKind(), CallErrorKind::UNIT_CRASHED) << outcome.describe();
    auto records = broker_->auditRecords(
        {{"event", "call"}, {"args", {{"method", attack.method}, {"payload_bytes", 0}}}});
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["result"].get<std::string>().rfind("unit crashed: ", 0), 0u)
        << records[0].dump();
    pid_t worker = records[0]["worker_pid"].get<pid_t>();
    EXPECT_FALSE(broker_->waitForRecord({{"event", "worker.exit"}, {"worker_pid", worker}}).is_null())
        << "the worker's exit is audited";
    expectStillServing(attack.method);
  }
  // One worker to start with, and one replacement per attack.
  EXPECT_EQ(broker_->auditRecords({{"event", "worker.spawn"}}).size(), attacks.size() + 1);
}

// VmHWM: the most resident memory the process has had (" 98076 kB"), for the test's output.
std::string peakMemory(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return line.substr(6);
  }
  return "?";
}

// A million legal requests the worker never reads an answer to. Cap'n Proto would queue every
// answer in airlockd's memory (3.7 GB here before UnreadBudget); instead the channel is ended
// once the worker has sent 1 MiB while reading nothing, and the worker killed and replaced.
TEST_F(HostilePeerTest, AMillionRequestsFromAWorkerThatReadsNothingEndThatWorkerOnly) {
  auto outcome = broker_->connect().unit("probe").call("bootstrap-flood", "1000000");
  ASSERT_EQ(outcome.errorKind(), CallErrorKind::UNIT_CRASHED)
      << outcome.describe() << "\n" << broker_->log();
  auto records = broker_->auditRecords(
      {{"event", "call"}, {"args", {{"method", "bootstrap-flood"}, {"payload_bytes", 7}}}});
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["result"].get<std::string>().rfind("unit crashed: ", 0), 0u)
      << records[0].dump();
  EXPECT_NE(broker_->log().find("reads nothing the broker sends it"), std::string::npos)
      << broker_->log();
  std::cerr << "worker request flood: airlockd's peak resident memory" << peakMemory(broker_->pid())
            << "\n";
  expectStillServing("a request flood from a worker");
}

// A host connection on a plain socket, optionally authenticated first with the real handshake
// as the test client, so hostile bytes can follow a Session.
class HostSocket {
 public:
  HostSocket(const BrokerProcess& broker, bool authenticate) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    KJ_SYSCALL(fd);
    fd_ = kj::AutoCloseFd(fd);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    strncpy(address.sun_path, broker.socket().c_str(), sizeof(address.sun_path) - 1);
    KJ_SYSCALL(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)));
    if (authenticate) {
      io_.emplace(kj::setupAsyncIo());
      // Borrowed: the fd stays ours, so raw bytes can follow the handshake on it.
      stream_ = io_->lowLevelProvider->wrapSocketFd(fd_.get());
      rpc_ = kj::heap<capnp::TwoPartyClient>(*stream_);
      auto identity = ClientIdentity::fromFile(broker.clientKey());
      session_ = airlock::authenticate(rpc_->bootstrap().castAs<rpc::Gateway>(), identity,
                                       brokerKeyFromFile(broker.brokerPublicKey()),
                                       io_->waitScope);
    }
  }

  // Writes all of `bytes` unless the broker hangs up first.
  void send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      pollfd writable{fd_.get(), POLLOUT, 0};
      if (poll(&writable, 1, 30000) <= 0) return;
      ssize_t n = ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return;  // EPIPE or ECONNRESET: the broker already hung up
      sent += static_cast<size_t>(n);
    }
  }

  // Reads (and drops) whatever the broker still sends until it hangs up. False if it has not
  // within 30 s: a guard against hanging the test, not a timing assertion.
  bool closedByBroker() {
    char buffer[4096];
    for (;;) {
      pollfd readable{fd_.get(), POLLIN, 0};
      if (poll(&readable, 1, 30000) <= 0) return false;
      ssize_t n = recv(fd_.get(), buffer, sizeof(buffer), 0);
      if (n == 0) return true;
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  kj::AutoCloseFd fd_;
  std::optional<kj::AsyncIoContext> io_;
  kj::Own<kj::AsyncIoStream> stream_;
  kj::Own<capnp::TwoPartyClient> rpc_;
  rpc::Session::Client session_ = nullptr;
};

namespace hostile = airlock::testing::hostile;

struct HostAttack {
  std::string name;
  std::function<std::string()> bytes;
};

TEST_F(HostilePeerTest, MalformedFramesOnTheHostSocketEndOnlyThatConnectionBeforeAndAfterAuth) {
  std::vector<HostAttack> attacks = {
      {"junk", hostile::junk},
      {"a huge segment count", hostile::hugeSegmentCount},
      {"a huge segment", hostile::hugeSegment},
      {"a truncated frame", hostile::truncatedFrame},
      {"deep nesting", [] { return hostile::deepNesting(); }},
  };
  for (bool authenticated : {false, true}) {
    for (auto& attack : attacks) {
      std::string what = attack.name + (authenticated ? " after" : " before") + " authenticating";
      SCOPED_TRACE(what);
      {
        HostSocket host(*broker_, authenticated);
        host.send(attack.bytes());
        // The rest of a truncated frame never comes: the broker waits for it until this side
        // hangs up, like any reader of a stream, and the hang-up must end it without harm.
        if (attack.name != "a truncated frame") {
          EXPECT_TRUE(host.closedByBroker()) << "the broker hangs up on " << what;
        }
      }
      expectStillServing(what);
    }
  }
  EXPECT_EQ(broker_->auditRecords({{"event", "auth"}, {"decision", "allow"}}).size(),
            2 * attacks.size() + attacks.size())
      << "each authenticated attack and each check after an attack had a session";
}

// The same flood from a host process, before and after it authenticates: the Gateway and the
// Session answer requests, and airlockd would queue the answers the peer does not read.
TEST_F(HostilePeerTest, AMillionRequestsFromAHostThatReadsNothingEndThatConnectionOnly) {
  // Question ids far from the ones the handshake's own client uses.
  std::string flood = hostile::bootstrapFlood(1000000, 1u << 30);
  for (bool authenticated : {false, true}) {
    std::string what = std::string("a request flood ") + (authenticated ? "after" : "before") +
                       " authenticating";
    SCOPED_TRACE(what);
    {
      HostSocket host(*broker_, authenticated);
      host.send(flood);
      EXPECT_TRUE(host.closedByBroker()) << "the broker hangs up on " << what;
    }
    expectStillServing(what);
  }
  EXPECT_NE(broker_->log().find("reads nothing the broker sends it"), std::string::npos)
      << broker_->log();
  std::cerr << "host request floods: airlockd's peak resident memory" << peakMemory(broker_->pid())
            << "\n";
}

}  // namespace
}  // namespace airlock::testing

// Hostile peers on both of airlockd's ends: a worker writing malformed Cap'n Proto onto its
// channel, and a host process doing the same on the socket, before and after authenticating.
// Each attack must end that peer's connection (a worker is killed and replaced), be recorded
// where the broker can record it, and leave the broker serving the next call.
//
// Junk carrying fds from a worker is BrokerTest.FdsAndJunkAWorkerSendsNeverEnterTheBroker; junk
// and malformed handshakes from a host before authenticating are in auth_test.cc.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/io.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

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

// The broker exports no bootstrap to its workers: a worker asking for one, many times, is refused
// each time and recorded once (unknown.method, capability "bootstrap"), and airlockd serves on.
TEST_F(HostilePeerTest, AWorkerAskingForTheBrokersBootstrapIsRefusedAndRecordedOnce) {
  auto outcome = broker_->connect().unit("probe").call("bootstrap-flood", "50");
  auto record = broker_->waitForRecord(
      {{"event", "unknown.method"}, {"args", {{"capability", "bootstrap"}}}});
  ASSERT_FALSE(record.is_null()) << outcome.describe() << "\n" << broker_->log();
  EXPECT_EQ(record["unit"], "probe") << record.dump();
  EXPECT_GT(record["worker_pid"].get<int>(), 0) << record.dump();
  EXPECT_EQ(record["decision"], "deny") << record.dump();
  EXPECT_EQ(broker_->auditRecords({{"event", "unknown.method"}}).size(), 1u)
      << "one record per worker, not one per ask";
  // The probe's own RPC system, answered on question ids it never asked, ends its channel and
  // the worker exits: the next call must go to its replacement, not to the worker on its way out.
  ASSERT_FALSE(broker_->waitForRecord({{"event", "worker.exit"}}).is_null()) << broker_->log();
  expectStillServing("a worker asking for the broker's bootstrap");
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

 // The Session of an authenticated socket, and the loop to wait on its promises.
  rpc::Session::Client& session() { return session_; }
  kj::WaitScope& waitScope() { return io_->waitScope; }

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
  // Either bound may end it first: the answers it does not read (UnreadBudget), or the
  // questions it does not finish (PeerMessageBounds, 1,024).
  bool ended = broker_->log().find("reads nothing the broker sends it") != std::string::npos ||
               !broker_->auditRecords({{"event", "limit"}, {"rule", "connection.max_open_questions"}})
                    .empty();
  EXPECT_TRUE(ended) << broker_->log();
  std::cerr << "host request floods: airlockd's peak resident memory" << peakMemory(broker_->pid())
            << "\n";
}

// A frame whose header announces 48 MiB and whose body never comes: Cap'n Proto would allocate
// all of it at once and wait. The connection is ended as soon as the header is read, before and
// after authenticating (a session's bound is the largest max_payload_bytes, 1 MiB here, plus
// the message overhead), and the refusal recorded.
TEST_F(HostilePeerTest, AHalfSentFrameAnnouncingMoreThanTheConnectionMaySendEndsIt) {
  for (bool authenticated : {false, true}) {
    std::string what = std::string(authenticated ? "after" : "before") + " authenticating";
    SCOPED_TRACE(what);
    {
      HostSocket host(*broker_, authenticated);
      host.send(hostile::frameHeader(0, (48u << 20) / 8) + std::string(64, '\0'));
      EXPECT_TRUE(host.closedByBroker()) << "the broker hangs up " << what;
    }
    expectStillServing(what);
  }
  auto refusals = broker_->auditRecords(
      {{"event", "limit"}, {"rule", "connection.max_message_bytes"}});
  ASSERT_FALSE(refusals.empty()) << broker_->log();
  EXPECT_EQ(refusals[0]["args"]["announced_bytes"], 48u << 20) << refusals[0].dump();
  EXPECT_EQ(refusals[0]["args"]["max_bytes"], 16u << 10) << "before authenticating";
}

// Open files of a process: entries in /proc/PID/fd.
size_t openFiles(pid_t pid) {
  size_t count = 0;
  for ([[maybe_unused]] auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++count;
  }
  return count;
}

// Questions asked and never finished: Cap'n Proto keeps every answer until the peer's Finish.
// A peer that reads its answers (so no write of the broker's is stuck) but never finishes is
// cut off past MAX_OPEN_QUESTIONS_PER_CONNECTION, before and after authenticating.
TEST_F(HostilePeerTest, QuestionsNeverFinishedPastTheirBoundEndTheConnection) {
  for (bool authenticated : {false, true}) {
    std::string what = std::string(authenticated ? "after" : "before") + " authenticating";
    SCOPED_TRACE(what);
    {
      HostSocket host(*broker_, authenticated);
      host.send(hostile::bootstrapFlood(1100, 1u << 30));
      EXPECT_TRUE(host.closedByBroker()) << "the broker hangs up " << what;
    }
    expectStillServing(what);
  }
  auto refusals = broker_->auditRecords(
      {{"event", "limit"}, {"rule", "connection.max_open_questions"}});
  ASSERT_FALSE(refusals.empty()) << broker_->log();
  EXPECT_EQ(refusals[0]["args"]["open_questions"], 1025) << refusals[0].dump();
}

// A connection ended by one of its bounds is closed by airlockd at once, though the peer keeps
// its end open: airlockd does not wait on Cap'n Proto, which may wait on a stuck write for ever.
TEST_F(HostilePeerTest, AConnectionEndedByABoundIsClosedThoughThePeerKeepsItsEndOpen) {
  pid_t pid = broker_->pid();
  // Once a call has been served, the worker, its cgroup leaf and the leaf made ahead for its
  // successor hold their descriptors: the baseline counts them.
  expectStillServing("start-up");
  size_t baseline = openFiles(pid);
  struct Attack {
    std::string name, bytes;
  };
  std::vector<Attack> attacks = {
      {"a frame over its bound", hostile::frameHeader(0, (48u << 20) / 8)},
      {"answers left unread", hostile::bootstrapFlood(1000000, 1u << 30)},
  };
  for (bool authenticated : {false, true}) {
    for (auto& attack : attacks) {
      std::string what = attack.name + (authenticated ? " after" : " before") + " authenticating";
      SCOPED_TRACE(what);
      HostSocket host(*broker_, authenticated);
      host.send(attack.bytes);
      size_t open = openFiles(pid);
      for (int i = 0; i < 500 && open > baseline; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        open = openFiles(pid);
      }
      EXPECT_LE(open, baseline) << "airlockd closed its end while ours is still open";
    }
  }
}

// Idle connections that never authenticate, far more than Debian's default descriptor limit:
// airlockd (started with that soft limit) raises its own to the hard one, keeps at most its
// caps of unauthenticated connections, records the refusals a few at a time, and serves on.
TEST(HostConnectionCaps, AFloodOfIdleConnectionsIsCappedRecordedAndTheBrokerServesOn) {
  struct rlimit ours;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &ours), 0);
  if (ours.rlim_max < 4096) GTEST_SKIP() << "needs a hard RLIMIT_NOFILE of at least 4096";
  struct rlimit debianDefault = {1024, ours.rlim_max};
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &debianDefault), 0);
  std::unique_ptr<BrokerProcess> broker;
  {
    broker = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"probe.toml", probePolicy()}});
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &ours), 0);
    ASSERT_TRUE(broker->waitUntilReady()) << broker->log();
  }
  std::string limits = readFile("/proc/" + std::to_string(broker->pid()) + "/limits");
  std::string row = limits.substr(limits.find("Max open files"));
  std::string hard = std::to_string(ours.rlim_max);
  EXPECT_EQ(row.rfind("Max open files            " + hard + "                " + hard, 0), 0u)
      << "the soft limit is raised to the hard one:\n" << row.substr(0, row.find('\n'));

  std::vector<kj::AutoCloseFd> idle;
  for (int i = 0; i < 1500; ++i) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    idle.emplace_back(fd);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    strncpy(address.sun_path, broker->socket().c_str(), sizeof(address.sun_path) - 1);
    // The listen backlog may be full while airlockd catches up: that is a refusal too.
    connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  }
  auto refusals = broker->waitForRecord(
      {{"event", "limit"}, {"rule", "broker.max_unauthenticated_connections_per_uid"}});
  ASSERT_FALSE(refusals.is_null()) << broker->log();
  EXPECT_EQ(kill(broker->pid(), 0), 0) << "airlockd is still running\n" << broker->log();
  EXPECT_LT(openFiles(broker->pid()), 300u) << "the idle connections hold no descriptors";
  EXPECT_LT(broker->auditRecords({{"event", "limit"}}).size(), 100u)
      << "refusals are recorded a few a second, not one each";
  idle.clear();
  // The closed connections still fill the listen backlog until airlockd has accepted (and
  // dropped) each: until then a connect is refused EAGAIN, as any client would see it.
  auto connectOnceTheBacklogDrains = [&]() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      try {
        return broker->connect();
      } catch (const kj::Exception&) {
        if (std::chrono::steady_clock::now() > deadline) throw;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  auto outcome = connectOnceTheBacklogDrains().unit("probe").call("echo", "after the flood");
  EXPECT_TRUE(outcome.ok()) << outcome.describe() << "\n" << broker->log();
  EXPECT_EQ(broker->stop(), 0);
  auto verified = broker->verifyAuditLog();
  EXPECT_EQ(verified.exitCode, 0) << verified.output;
}

// A session that keeps every Unit capability it asks for: past its bound it is refused (and
// recorded), and what it releases it can ask for again.
TEST_F(HostilePeerTest, ASessionKeepingEveryCapabilityItGetsIsRefusedPastItsBound) {
  HostSocket host(*broker_, true);
  std::vector<kj::Promise<capnp::Response<rpc::Session::UnitResults>>> asked;
  for (int i = 0; i < 300; ++i) {
    auto request = host.session().unitRequest();
    request.setName("probe");
    asked.push_back(request.send());
  }
  std::vector<capnp::Response<rpc::Session::UnitResults>> kept;
  size_t refused = 0;
  for (auto& promise : asked) {
    promise.then([&](capnp::Response<rpc::Session::UnitResults>&& r) { kept.push_back(kj::mv(r)); },
                 [&](kj::Exception&& e) {
                   EXPECT_EQ(e.getType(), kj::Exception::Type::OVERLOADED) << e.getDescription().cStr();
                   ++refused;
                 })
        .wait(host.waitScope());
  }
  EXPECT_EQ(kept.size(), 256u) << "MAX_CAPABILITIES_PER_CONNECTION";
  EXPECT_EQ(refused, 44u);
  EXPECT_FALSE(broker_->auditRecords({{"event", "limit"}, {"rule", "connection.max_capabilities"}})
                   .empty());
  kept.clear();  // released: the session may ask again
  auto request = host.session().unitRequest();
  request.setName("probe");
  auto again = request.send().wait(host.waitScope());
  auto call = again.getUnit().callRequest();
  call.setMethod("echo");
  call.setPayload(kj::StringPtr("again").asBytes());
  auto answer = call.send().wait(host.waitScope());
  ASSERT_TRUE(answer.getResult().isOk());
}

// Calls pipelined on one connection past its bound are answered busy at once, recorded like any
// refused call; the ones admitted run to their end.
TEST(HostConnectionCaps, CallsPipelinedPastAConnectionsBoundAreBusy) {
  BrokerProcess broker(std::map<std::string, std::string>{{"probe.toml",
                         "[unit]\nname = \"probe\"\nworker = \"test-probe_worker\"\n"
                         "call_timeout_ms = 1500\n\n[[rule]]\nid = \"tester-calls-probe\"\n"
                         "allow = \"call\"\ncaller = [\"tester\"]\nmethod = [\"*\"]\n"}});
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  HostSocket host(broker, true);
  auto request = host.session().unitRequest();
  request.setName("probe");
  auto unit = request.send().getUnit();
  std::vector<kj::Promise<capnp::Response<rpc::Unit::CallResults>>> calls;
  for (int i = 0; i < 300; ++i) {
    auto call = unit.callRequest();
    call.setMethod("hang");
    calls.push_back(call.send());
  }
  size_t busy = 0, other = 0;
  for (auto& call : calls) {
    auto answer = call.wait(host.waitScope());
    auto result = answer.getResult();
    if (result.isError() && result.getError().getKind() == rpc::ErrorKind::BUSY) {
      EXPECT_EQ(result.getError().getRuleId(), "connection.max_calls_in_flight");
      ++busy;
    } else {
      ++other;
    }
  }
  EXPECT_EQ(busy, 300u - 256u) << "MAX_CALLS_IN_FLIGHT_PER_CONNECTION";
  EXPECT_EQ(other, 256u);
  EXPECT_EQ(broker.auditRecords({{"event", "call"}, {"rule", "connection.max_calls_in_flight"}})
                .size(),
            busy);
}

}  // namespace
}  // namespace airlock::testing

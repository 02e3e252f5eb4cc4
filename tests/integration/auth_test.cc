// Host authentication against a real airlockd: the mutual Ed25519 handshake of host.capnp, and
// every way to get it wrong. Each refusal must be audited (event "auth", decision deny, its
// `failure`) and leave the broker serving. Attacks drive the capnp interface directly.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <airlock/capnp/host.capnp.h>
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/exception.h>
#include <kj/io.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <thread>

#include "capnp/host_auth.h"
#include "sdk/host/client.h"
#include "sdk/host/handshake.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

std::string probePolicy(const std::string& callerExtra = "") {
  return R"(
[unit]
name = "probe"
worker = "test-probe_worker"

[[rule]]
id = "tester-calls-probe"
allow = "call"
caller = ["tester"]
)" + callerExtra + R"(
method = ["*"]
)";
}

// A host connection driven by hand, on the test's event loop `io` (one per thread, so no Client
// may exist while `io` does; each attack runs in its own scope).
class RawConnection {
 public:
  RawConnection(kj::AsyncIoContext& io, const std::string& socket) : io_(io) {
    auto address = io_.provider->getNetwork()
                       .parseAddress(kj::str("unix:", socket.c_str()))
                       .wait(io_.waitScope);
    stream_ = address->connect().wait(io_.waitScope);
    rpc_ = kj::heap<capnp::TwoPartyClient>(*stream_);
    gateway_ = rpc_->bootstrap().castAs<rpc::Gateway>();
  }

  kj::WaitScope& waitScope() { return io_.waitScope; }
  rpc::Gateway::Client& gateway() { return gateway_; }

  // hello with exactly these bytes.
  capnp::Response<rpc::Gateway::HelloResults> hello(kj::ArrayPtr<const kj::byte> name,
                                                    kj::ArrayPtr<const kj::byte> nonce) {
    auto request = gateway_.helloRequest();
    request.setClientName(capnp::Text::Reader(reinterpret_cast<const char*>(name.begin()),
                                              name.size()));
    request.setClientNonce(nonce);
    return request.send().wait(io_.waitScope);
  }

 private:
  kj::AsyncIoContext& io_;
  kj::Own<kj::AsyncIoStream> stream_;
  kj::Own<capnp::TwoPartyClient> rpc_;
  rpc::Gateway::Client gateway_ = nullptr;
};

kj::ArrayPtr<const kj::byte> bytesOf(const std::string& text) {
  return kj::arrayPtr(reinterpret_cast<const kj::byte*>(text.data()), text.size());
}

template <size_t N>
kj::ArrayPtr<const kj::byte> bytesOf(const std::array<unsigned char, N>& bytes) {
  return kj::arrayPtr(bytes.data(), bytes.size());
}

// The transcript of a hello as the client sees it.
rpc::AuthTranscript transcriptOf(const capnp::Response<rpc::Gateway::HelloResults>& answer,
                                 const std::string& name, const rpc::AuthNonce& clientNonce,
                                 const audit::PublicKey& brokerKey) {
  rpc::AuthTranscript t;
  t.clientName = name;
  t.brokerKey = brokerKey.bytes();
  t.peerUid = answer.getPeerUid();
  t.peerPid = answer.getPeerPid();
  t.clientNonce = clientNonce;
  auto brokerNonce = answer.getBrokerNonce();
  memcpy(t.brokerNonce.data(), brokerNonce.begin(), t.brokerNonce.size());
  return t;
}

// Runs `attempt`; expects airlockd's refusal.
template <typename Attempt>
void expectRefused(Attempt&& attempt) {
  try {
    attempt();
    ADD_FAILURE() << "the attempt was not refused";
  } catch (const kj::Exception& e) {
    EXPECT_NE(std::string(e.getDescription().cStr()).find("authentication refused"),
              std::string::npos)
        << e.getDescription().cStr();
  }
}

class AuthTest : public ::testing::Test {
 protected:
  void start(const std::string& policy = probePolicy(), std::vector<std::string> extraArgs = {}) {
    BrokerOptions options;
    options.clients = {TEST_CLIENT, "other"};
    options.extraArgs = kj::mv(extraArgs);
    broker_ = std::make_unique<BrokerProcess>(
        std::map<std::string, std::string>{{"probe.toml", policy}},
        std::map<std::string, std::string>{}, options);
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
    brokerKey_ = brokerKeyFromFile(broker_->brokerPublicKey());
  }

  ClientIdentity identity(const std::string& name = TEST_CLIENT) {
    return ClientIdentity::fromFile(broker_->clientKey(name));
  }

  // The auth refusals audited so far whose failure is `failure`.
  std::vector<nlohmann::json> refusals(const std::string& failure) {
    std::vector<nlohmann::json> found;
    for (auto& record : broker_->auditRecords({{"event", "auth"}, {"decision", "deny"}})) {
      if (record["args"]["failure"] == failure) found.push_back(record);
    }
    return found;
  }

  void expectStillServing() {
    auto outcome = broker_->connect().unit("probe").call("echo", "still serving");
    EXPECT_TRUE(outcome.ok()) << outcome.describe() << "\n" << broker_->log();
  }

  // A full, correct raw handshake as TEST_CLIENT; returns the signature it sent.
  std::array<unsigned char, 64> authenticateRaw(RawConnection& raw, const rpc::AuthNonce& nonce) {
    auto me = identity();
    auto answer = raw.hello(bytesOf(std::string(TEST_CLIENT)), bytesOf(nonce));
    auto t = transcriptOf(answer, TEST_CLIENT, nonce, brokerKey_);
    auto signature = me.key->sign(rpc::authMessage(t, rpc::AuthSigner::CLIENT));
    auto request = answer.getChallenge().authenticateRequest();
    request.setClientSignature(bytesOf(signature));
    request.send().wait(raw.waitScope());
    return signature;
  }

  std::unique_ptr<BrokerProcess> broker_;
  audit::PublicKey brokerKey_;
};

TEST_F(AuthTest, TheRightKeyGetsASessionAndTheAdmissionIsAudited) {
  start();
  expectStillServing();
  auto allowed = broker_->auditRecords({{"event", "auth"}, {"decision", "allow"}});
  ASSERT_EQ(allowed.size(), 1u);
  EXPECT_EQ(allowed[0]["rule"], "tester-calls-probe");
  EXPECT_EQ(allowed[0]["caller"], "client:tester,uid:" + std::to_string(getuid()));
  EXPECT_EQ(allowed[0]["args"]["peer_pid"], getpid());
  EXPECT_EQ(allowed[0]["args"]["backoff_ms"], 0);
}

TEST_F(AuthTest, AnotherRegisteredClientsKeyIsRefusedAsWrongKey) {
  start();
  auto other = identity("other");
  ClientIdentity impostor{TEST_CLIENT, kj::mv(other.key)};
  expectRefused([&]() { Client::connect(broker_->socket(), impostor, brokerKey_); });
  auto refused = refusals("wrong key");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0]["reason"].get<std::string>().find("key of client \"other\""),
            std::string::npos) << refused[0].dump();
  EXPECT_EQ(refused[0]["args"]["step"], "authenticate");
  expectStillServing();
}

TEST_F(AuthTest, AnUnregisteredKeyIsRefusedAsBadSignature) {
  start();
  ClientIdentity stranger{TEST_CLIENT, audit::SigningKey::generate()};
  expectRefused([&]() { Client::connect(broker_->socket(), stranger, brokerKey_); });
  EXPECT_EQ(refusals("bad signature").size(), 1u);
  expectStillServing();
}

TEST_F(AuthTest, AnUnknownIdentityIsRefusedAtHello) {
  start();
  ClientIdentity nobody{"nobody", audit::SigningKey::generate()};
  expectRefused([&]() { Client::connect(broker_->socket(), nobody, brokerKey_); });
  auto refused = refusals("unknown identity");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0]["args"]["step"], "hello");
  EXPECT_EQ(refused[0]["caller"], "client:nobody,uid:" + std::to_string(getuid()));
  expectStillServing();
}

TEST_F(AuthTest, ARegisteredClientNoRuleNamesIsRefused) {
  start();
  expectRefused([&]() { broker_->connect("other"); });
  EXPECT_EQ(refusals("not a caller").size(), 1u);
  expectStillServing();
}

TEST_F(AuthTest, TheRightKeyFromAUidTheRulesDoNotListIsRefusedAsWrongUid) {
  start(probePolicy("caller_uid = [" + std::to_string(getuid() + 1) + "]"));
  expectRefused([&]() { broker_->connect(); });
  auto refused = refusals("wrong uid");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0]["reason"].get<std::string>().find("do not list uid " +
                                                          std::to_string(getuid())),
            std::string::npos) << refused[0].dump();
}

TEST_F(AuthTest, AnAnswerCapturedOnOneConnectionIsUselessOnAnother) {
  start();
  {
    auto io = kj::setupAsyncIo();
    auto capturedNonce = rpc::freshAuthNonce();
    RawConnection first(io, broker_->socket());
    auto captured = authenticateRaw(first, capturedNonce);

    // The captured answer, sent to a fresh challenge.
    RawConnection second(io, broker_->socket());
    auto answer = second.hello(bytesOf(std::string(TEST_CLIENT)), bytesOf(rpc::freshAuthNonce()));
    auto request = answer.getChallenge().authenticateRequest();
    request.setClientSignature(bytesOf(captured));
    expectRefused([&]() { request.send().wait(second.waitScope()); });

    // The captured hello itself, replayed: its client nonce was used.
    RawConnection third(io, broker_->socket());
    expectRefused([&]() { third.hello(bytesOf(std::string(TEST_CLIENT)), bytesOf(capturedNonce)); });
  }
  EXPECT_EQ(refusals("bad signature").size(), 1u);
  EXPECT_EQ(refusals("replay").size(), 1u);
  expectStillServing();
}

TEST_F(AuthTest, AnAnswerSignedForAnotherBrokerNonceIsRefused) {
  start();
  {
    auto io = kj::setupAsyncIo();
    RawConnection raw(io, broker_->socket());
    auto me = identity();
    auto nonce = rpc::freshAuthNonce();
    auto answer = raw.hello(bytesOf(std::string(TEST_CLIENT)), bytesOf(nonce));
    auto t = transcriptOf(answer, TEST_CLIENT, nonce, brokerKey_);
    t.brokerNonce = rpc::freshAuthNonce();  // not the one airlockd sent
    auto request = answer.getChallenge().authenticateRequest();
    request.setClientSignature(bytesOf(me.key->sign(rpc::authMessage(t, rpc::AuthSigner::CLIENT))));
    expectRefused([&]() { request.send().wait(raw.waitScope()); });
  }
  EXPECT_EQ(refusals("bad signature").size(), 1u);
  expectStillServing();
}

TEST_F(AuthTest, AChallengeAnswersOnceEvenCorrectly) {
  start();
  {
    auto io = kj::setupAsyncIo();
    RawConnection raw(io, broker_->socket());
    auto me = identity();
    auto nonce = rpc::freshAuthNonce();
    auto answer = raw.hello(bytesOf(std::string(TEST_CLIENT)), bytesOf(nonce));
    auto t = transcriptOf(answer, TEST_CLIENT, nonce, brokerKey_);
    auto signature = me.key->sign(rpc::authMessage(t, rpc::AuthSigner::CLIENT));
    auto challenge = answer.getChallenge();
    auto first = challenge.authenticateRequest();
    first.setClientSignature(bytesOf(signature));
    first.send().wait(raw.waitScope());
    auto second = challenge.authenticateRequest();
    second.setClientSignature(bytesOf(signature));
    expectRefused([&]() { second.send().wait(raw.waitScope()); });
  }
  auto replays = refusals("replay");
  ASSERT_EQ(replays.size(), 1u);
  EXPECT_NE(replays[0]["reason"].get<std::string>().find("a second answer"), std::string::npos);
}

TEST_F(AuthTest, NothingButTheHandshakeIsReachableBeforeAuthenticating) {
  start();
  {
    auto io = kj::setupAsyncIo();
    RawConnection raw(io, broker_->socket());
    // The bootstrap cast to a Session or a Unit: a call on it never reaches one.
    auto session = raw.gateway().castAs<rpc::Session>();
    auto unitRequest = session.unitRequest();
    unitRequest.setName("probe");
    auto unit = unitRequest.send().getUnit();  // pipelined, as a client in a hurry would
    auto call = unit.callRequest();
    call.setMethod("echo");
    EXPECT_ANY_THROW(call.send().wait(raw.waitScope()));
    auto asUnit = raw.gateway().castAs<rpc::Unit>().callRequest();
    asUnit.setMethod("echo");
    EXPECT_ANY_THROW(asUnit.send().wait(raw.waitScope()));

    // Nor on the challenge, before answering it.
    auto answer = raw.hello(bytesOf(std::string(TEST_CLIENT)), bytesOf(rpc::freshAuthNonce()));
    auto viaChallenge = answer.getChallenge().castAs<rpc::Session>().unitRequest();
    viaChallenge.setName("probe");
    EXPECT_ANY_THROW(viaChallenge.send().wait(raw.waitScope()));
  }
  EXPECT_EQ(refusals("not authenticated").size(), 3u);
  EXPECT_TRUE(broker_->auditRecords({{"event", "call"}}).empty()) << "no call got through";
  expectStillServing();
}

TEST_F(AuthTest, OversizedAndMalformedHandshakeMessagesAreRefused) {
  start();
  auto nonce = [](size_t size) { return std::string(size, 'n'); };
  std::string name = TEST_CLIENT;
  struct Case {
    std::string name, nonce, failure;
  };
  std::vector<Case> hellos = {
      // 8 KiB: over every argument's bound, under the message bound before authenticating
      // (PRE_AUTH_MAX_MESSAGE_BYTES), so the handshake itself refuses it.
      {std::string(8 << 10, 'a'), nonce(32), "oversized"},
      {name, nonce(33), "oversized"},
      {name, nonce(8 << 10), "oversized"},
      {name, nonce(31), "malformed"},
      {name, "", "malformed"},
      {"", nonce(32), "malformed"},
      {"Tester", nonce(32), "malformed"},
      {std::string("test\0er", 7), nonce(32), "malformed"},
  };
  // Each case on its own connection, then a real client: the broker still serves, and its
  // success resets this uid's failure count (so back-off does not pile up across cases).
  for (auto& c : hellos) {
    size_t before = refusals(c.failure).size();
    {
      auto io = kj::setupAsyncIo();
      RawConnection raw(io, broker_->socket());
      expectRefused([&]() { raw.hello(bytesOf(c.name), bytesOf(c.nonce)); });
    }
    EXPECT_EQ(refusals(c.failure).size(), before + 1) << c.failure << " " << c.name.size();
    expectStillServing();
  }
  std::vector<std::pair<size_t, std::string>> answers = {
      {65, "oversized"}, {8 << 10, "oversized"}, {0, "malformed"}, {63, "malformed"}};
  for (auto& [size, failure] : answers) {
    size_t before = refusals(failure).size();
    {
      auto io = kj::setupAsyncIo();
      RawConnection raw(io, broker_->socket());
      auto answer = raw.hello(bytesOf(name), bytesOf(rpc::freshAuthNonce()));
      auto request = answer.getChallenge().authenticateRequest();
      request.setClientSignature(bytesOf(std::string(size, 's')));
      expectRefused([&]() { request.send().wait(raw.waitScope()); });
    }
    EXPECT_EQ(refusals(failure).size(), before + 1) << failure << " signature of " << size;
    expectStillServing();
  }
  // A 1 MiB hello never reaches the handshake: its frame is over what a connection may send
  // before authenticating, so the connection ends, recorded as a limit refusal.
  {
    auto io = kj::setupAsyncIo();
    RawConnection raw(io, broker_->socket());
    EXPECT_ANY_THROW(raw.hello(bytesOf(std::string(1 << 20, 'a')), bytesOf(nonce(32))));
  }
  EXPECT_FALSE(broker_->waitForRecord({{"event", "limit"}, {"rule", "connection.max_message_bytes"}})
                   .is_null());
  expectStillServing();
  {
    auto io = kj::setupAsyncIo();
    RawConnection twice(io, broker_->socket());
    expectRefused([&]() { twice.hello(bytesOf(std::string("nobody")), bytesOf(nonce(32))); });
    expectRefused([&]() { twice.hello(bytesOf(name), bytesOf(std::string(32, 'm'))); });
  }
  auto last = broker_->auditRecords({{"event", "auth"}}).back();
  EXPECT_NE(last["reason"].get<std::string>().find("a second hello on one connection"),
            std::string::npos) << last.dump();
  for (auto& record : broker_->auditRecords({{"event", "auth"}})) {
    EXPECT_LE(record["args"]["client"].get<std::string>().size(), 64u * 4 + 3u)
        << "client-sent text in the audit log is bounded";
  }
  expectStillServing();
}

TEST_F(AuthTest, BytesThatAreNotCapnpEndTheConnectionNotTheBroker) {
  start();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  strncpy(address.sun_path, broker_->socket().c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  std::string junk(70000, '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(i * 2654435761u >> 13);
  (void)!write(fd, junk.data(), junk.size());  // the broker may hang up before reading it all
  close(fd);
  // capnp drops the connection before any handshake method runs: nothing to audit as auth, and
  // the broker goes on serving.
  expectStillServing();
}

TEST_F(AuthTest, RepeatedFailuresFromAUidEngageBackOffAndASuccessResetsIt) {
  start();
  ClientIdentity stranger{TEST_CLIENT, audit::SigningKey::generate()};
  constexpr int ATTEMPTS = 6;
  for (int i = 0; i < ATTEMPTS; ++i) {
    expectRefused([&]() { Client::connect(broker_->socket(), stranger, brokerKey_); });
  }
  auto refused = refusals("bad signature");
  ASSERT_EQ(refused.size(), size_t(ATTEMPTS));
  for (int i = 0; i < ATTEMPTS; ++i) {
    EXPECT_EQ(refused[i]["args"]["failures"], i + 1) << refused[i].dump();
    // The first three failures are free; then each answer waits 100 ms, doubling.
    int expectedDelay = i < 3 ? 0 : 100 << (i - 3);
    EXPECT_EQ(refused[i]["args"]["backoff_ms"], expectedDelay) << refused[i].dump();
  }
  expectStillServing();  // waits 800 ms, then succeeds and resets the count
  auto allowed = broker_->auditRecords({{"event", "auth"}, {"decision", "allow"}});
  ASSERT_EQ(allowed.size(), 1u);
  EXPECT_EQ(allowed[0]["args"]["backoff_ms"], 800);
  expectStillServing();
  allowed = broker_->auditRecords({{"event", "auth"}, {"decision", "allow"}});
  ASSERT_EQ(allowed.size(), 2u);
  EXPECT_EQ(allowed[1]["args"]["backoff_ms"], 0);
}

TEST_F(AuthTest, HandshakesInFlightPerUidAreCapped) {
  start();
  {
    auto io = kj::setupAsyncIo();
    std::vector<std::unique_ptr<RawConnection>> held;
    std::vector<capnp::Response<rpc::Gateway::HelloResults>> challenges;
    for (int i = 0; i < 4; ++i) {
      held.push_back(std::make_unique<RawConnection>(io, broker_->socket()));
      challenges.push_back(held.back()->hello(bytesOf(std::string(TEST_CLIENT)),
                                              bytesOf(rpc::freshAuthNonce())));
    }
    RawConnection fifth(io, broker_->socket());
    expectRefused([&]() {
      fifth.hello(bytesOf(std::string(TEST_CLIENT)), bytesOf(rpc::freshAuthNonce()));
    });
  }
  EXPECT_EQ(refusals("too many attempts").size(), 1u);
  expectStillServing();  // the held challenges were released with their connections
}

TEST_F(AuthTest, AHandshakeLeftUnansweredIsCutAtTheDeadlineFreeingItsSlotAndAudited) {
  start(probePolicy(), {"--handshake-timeout-ms", "300"});
  // An authenticated session is not subject to the deadline. (Its own thread: a thread has one
  // event loop, and the raw connections below need this one's.)
  std::atomic<bool> deadlinesPassed{false};
  std::string sessionOutcome;
  std::thread sessionThread([&]() {
    auto session = broker_->connect();
    while (!deadlinesPassed) usleep(10 * 1000);
    sessionOutcome = session.unit("probe").call("echo", "still here").describe();
  });

  // A connection that sends nothing at all: airlockd closes it (the read sees end of file).
  int silent = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(silent, 0);
  kj::AutoCloseFd silentOwned(silent);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  strncpy(address.sun_path, broker_->socket().c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(connect(silent, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  timeval wait{30, 0};
  ASSERT_EQ(setsockopt(silent, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait)), 0);
  char byte;
  EXPECT_EQ(read(silent, &byte, 1), 0) << "the silent connection was not closed";

  {
    // Four hellos never answered hold every in-flight slot of this uid until the deadline
    // releases them; then a new handshake gets through.
    auto io = kj::setupAsyncIo();
    std::vector<std::unique_ptr<RawConnection>> held;
    std::vector<capnp::Response<rpc::Gateway::HelloResults>> challenges;
    for (int i = 0; i < 4; ++i) {
      held.push_back(std::make_unique<RawConnection>(io, broker_->socket()));
      challenges.push_back(held.back()->hello(bytesOf(std::string(TEST_CLIENT)),
                                              bytesOf(rpc::freshAuthNonce())));
    }
    for (int i = 0; i < 200 && refusals("handshake timeout").size() < 5; ++i) usleep(50 * 1000);
  }
  auto timeouts = refusals("handshake timeout");
  ASSERT_EQ(timeouts.size(), 5u);
  EXPECT_EQ(timeouts[0]["args"]["step"], "deadline");
  EXPECT_NE(timeouts[0]["reason"].get<std::string>().find("no session within 300 ms"),
            std::string::npos) << timeouts[0].dump();
  usleep(400 * 1000);  // the authenticated session is now well past the deadline
  deadlinesPassed = true;
  sessionThread.join();
  EXPECT_EQ(sessionOutcome, "ok");
}

TEST_F(AuthTest, AClientPinningAnotherBrokerKeyRefusesToAnswer) {
  start();
  auto otherBroker = audit::SigningKey::generate();
  try {
    Client::connect(broker_->socket(), identity(), otherBroker->publicKey());
    FAIL() << "the client answered a broker it does not trust";
  } catch (const kj::Exception& e) {
    EXPECT_NE(std::string(e.getDescription().cStr()).find("is not the airlockd whose public key"),
              std::string::npos) << e.getDescription().cStr();
  }
  EXPECT_TRUE(broker_->auditRecords({{"event", "auth"}, {"decision", "allow"}}).empty());
  expectStillServing();
}

TEST_F(AuthTest, ARemovedKeyIsRefusedAfterARestart) {
  start();
  expectStillServing();
  ASSERT_EQ(unlink((broker_->clientKeysDir() + "/tester.pub").c_str()), 0);
  ASSERT_TRUE(broker_->restart()) << broker_->log();
  expectRefused([&]() { broker_->connect(); });
  EXPECT_EQ(refusals("unknown identity").size(), 1u);
  // The broker still serves the clients it knows.
  expectRefused([&]() { broker_->connect("other"); });
  EXPECT_EQ(refusals("not a caller").size(), 1u);
}

TEST_F(AuthTest, ARemovedKeyIsRevokedByAReloadIncludingTheSessionsItHasOpen) {
  start();
  {
    auto session = broker_->connect();
    auto unit = session.unit("probe");
    ASSERT_TRUE(unit.call("echo", "before").ok());

    ASSERT_EQ(unlink((broker_->clientKeysDir() + "/tester.pub").c_str()), 0);
    ASSERT_EQ(kill(broker_->pid(), SIGHUP), 0);
    auto reload = broker_->waitForRecord({{"event", "policy.reload"}});
    ASSERT_FALSE(reload.is_null()) << broker_->log();
    EXPECT_EQ(reload["args"]["clients_revoked"], nlohmann::json::array({TEST_CLIENT}))
        << reload.dump();

    // The session opened before the reload is refused from its next call on, and audited.
    auto refused = unit.call("echo", "after");
    EXPECT_EQ(refused.errorKind(), CallErrorKind::DENIED) << refused.describe();
    EXPECT_NE(refused.describe().find("removed by a policy reload"), std::string::npos)
        << refused.describe();
  }
  auto denied = broker_->auditRecords({{"event", "call"}, {"decision", "deny"}});
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0]["caller"], "client:tester,uid:" + std::to_string(getuid()));
  // A new handshake with the removed key fails at hello.
  expectRefused([&]() { broker_->connect(); });
  EXPECT_EQ(refusals("unknown identity").size(), 1u);
}

TEST(AuthCli, KeygenClientWritesNameKeyAndNamePubAndCallUsesThem) {
  TempDir dir;
  auto made = runProgram({binDir() + "/airlock", "keygen", "--client", "web", "--out", dir.path()});
  ASSERT_EQ(made.exitCode, 0) << made.output;
  struct stat st;
  ASSERT_EQ(stat(dir.file("web.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(dir.file("web.pub").c_str(), &st), 0);
  EXPECT_EQ(runProgram({binDir() + "/airlock", "keygen", "--client", "Web!", "--out", dir.path()})
                .exitCode,
            2);
  EXPECT_EQ(runProgram({binDir() + "/airlock", "keygen", "--client", "web", "--out", dir.path()})
                .exitCode,
            1)
      << "never overwrites";
}

TEST(AuthCli, AirlockCallAuthenticatesWithItsKeyAndTheBrokersKey) {
  BrokerProcess broker({{"probe.toml", probePolicy()}});
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  auto ok = runProgram({binDir() + "/airlock", "call", "--socket", broker.socket(), "--key",
                        broker.clientKey(), "--broker-key", broker.brokerPublicKey(), "probe",
                        "echo", "hi"});
  EXPECT_EQ(ok.exitCode, 0) << ok.output;
  EXPECT_EQ(ok.output, "hi");
  auto missing = runProgram({binDir() + "/airlock", "call", "--socket", broker.socket(), "probe",
                             "echo"});
  EXPECT_EQ(missing.exitCode, 2) << missing.output;
}

}  // namespace
}  // namespace airlock::testing

#include "bench/broker_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kj/debug.h>
#include <kj/io.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "capnp/socket_stream.h"

namespace airlock::bench {

// call_timeout_ms is the longest the schema allows: a broker-flood call lasts as long as the
// measurement beside it.
std::string benchUnitPolicy(const std::string& name, int instances, const std::string& files,
                            RequestPace pace, const std::string& moreSettings) {
  return "[unit]\nname = \"" + name + "\"\nworker = \"airlock-bench-worker\"\ninstances = " +
         std::to_string(instances) + "\ncall_timeout_ms = 600000" +
         (pace == RequestPace::UNLIMITED
              ? "\nmax_requests_per_second = 1000000\nrequests_burst = 1000000"
              : "") +
         (moreSettings.empty() ? "" : "\n" + moreSettings) +
         "\n\n[[rule]]\nid = \"bench-files\"\nallow = \"fs.open\"\npath = \"" + files +
         "/**\"\nmode = [\"read\"]\n\n[[rule]]\nid = \"bench-stat\"\nallow = \"fs.stat\"\n"
         "path = \"" + files + "/**\"\n\n[[rule]]\nid = \"bench-caller\"\nallow = \"call\"\n"
         "caller = [\"bench\"]\nmethod = [\"*\"]\n";
}

namespace {

bool acceptsConnections(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  KJ_SYSCALL(fd, "socket(AF_UNIX)");
  kj::AutoCloseFd probe(fd);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  KJ_REQUIRE(path.size() < sizeof(address.sun_path), "socket path too long", path);
  memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
}

}  // namespace

BrokerRunner::BrokerRunner(const std::string& binDir, int units, int instances,
                           const std::string& airlockdName, RequestPace pace,
                           const std::map<std::string, std::string>& moreUnitSettings,
                           const std::map<std::string, std::string>& morePolicies) {
  char pattern[] = "/tmp/airlock-bench-XXXXXX";
  KJ_REQUIRE(mkdtemp(pattern) != nullptr, "mkdtemp");
  dir_ = pattern;
  chmod(dir_.c_str(), 0755);
  files_ = dir_ + "/files";
  mkdir(files_.c_str(), 0755);
  std::ofstream(files_ + "/small.txt") << "benchmark file\n";
  std::string policies = dir_ + "/policies";
  mkdir(policies.c_str(), 0755);
  for (int i = 0; i < units; ++i) {
    std::string name = units == 1 ? "bench" : "bench" + std::to_string(i);
    std::ofstream(policies + "/" + name + ".toml") << benchUnitPolicy(
        name, instances, files_, pace,
        moreUnitSettings.count(name) ? moreUnitSettings.at(name) : std::string());
  }
  for (auto& [file, text] : morePolicies) std::ofstream(policies + "/" + file) << text;
  // The broker's key and the benchmark's client key: every host connection authenticates.
  std::string keys = dir_ + "/keys";
  mkdir(keys.c_str(), 0700);
  auto brokerKey = audit::SigningKey::generate();
  auto clientKey = audit::SigningKey::generate();
  KJ_REQUIRE(audit::writeKeyPair(*brokerKey, dir_ + "/broker").empty(), "writing broker key");
  KJ_REQUIRE(audit::writeKeyPair(*clientKey, keys + "/bench").empty(), "writing client key");
  // The broker holds public keys only; the secret half stays beside them for Client::connect.
  KJ_SYSCALL(rename((keys + "/bench.key").c_str(), clientKeyFile().c_str()));
  brokerPublicKey_ = brokerKey->publicKey();
  identity_ = ClientIdentity{"bench", kj::mv(clientKey)};
  std::string brokerKeyFile = dir_ + "/broker.key";
  socket_ = dir_ + "/airlock.sock";
  std::string audit = dir_ + "/audit.jsonl", log = dir_ + "/airlockd.log";
  std::string airlockd = binDir + "/" + airlockdName;
  pid_ = fork();
  if (pid_ == 0) {
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    dup2(out, 1);
    dup2(out, 2);
    execl(airlockd.c_str(), airlockd.c_str(), "--policies", policies.c_str(), "--socket",
          socket_.c_str(), "--audit", audit.c_str(), "--workers", binDir.c_str(), "--key",
          brokerKeyFile.c_str(), "--client-keys", keys.c_str(), nullptr);
    _exit(127);
  }
  // Ready once the socket accepts a connection: the file exists a moment before listen().
  for (int i = 0; i < 500; ++i) {
    if (acceptsConnections(socket_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  KJ_FAIL_REQUIRE("airlockd did not start; see its log", log);
}

BrokerRunner::~BrokerRunner() {
  session_ = nullptr;
  rpc_ = nullptr;
  stream_ = nullptr;
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::string command = "rm -rf '" + dir_ + "'";
  if (system(command.c_str()) != 0) fprintf(stderr, "could not remove %s\n", dir_.c_str());
}

long BrokerRunner::rssKiB() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string key;
  long value = 0;
  while (status >> key) {
    if (key == "VmRSS:") {
      status >> value;
      return value;
    }
  }
  return -1;
}

rpc::Unit::Client BrokerRunner::connect(kj::AsyncIoContext& io, const std::string& unit) {
  if (session_ == nullptr) {
    auto address = io.provider->getNetwork()
                       .parseAddress(kj::str("unix:", socket_.c_str()))
                       .wait(io.waitScope);
    // The stream the host SDK uses (sdk/host/client.cc), not kj's: a host on kj's is woken each
    // time airlockd reads one of its messages (capnp/socket_stream.h).
    stream_ = rpc::takeOver(io.unixEventPort, address->connect().wait(io.waitScope),
                            rpc::Fds::REFUSED);
    rpc_ = kj::heap<capnp::TwoPartyClient>(*stream_);
    auto gateway = rpc_->bootstrap().castAs<rpc::Gateway>();
    session_ = authenticate(gateway, identity_, brokerPublicKey_, io.waitScope);
  }
  KJ_IF_MAYBE(session, session_) {
    auto request = session->unitRequest();
    request.setName(unit);
    return request.send().wait(io.waitScope).getUnit();
  }
  KJ_UNREACHABLE;
}

}  // namespace airlock::bench

#include "tests/integration/support/broker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "audit/signing_key.h"
#include "sdk/host/client.h"

namespace airlock::testing {

namespace {

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) {
    text.replace(at, from.size(), to);
  }
  return text;
}

bool canConnect(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return ok;
}

bool matches(const nlohmann::json& record, const nlohmann::json& filter) {
  for (auto& [key, value] : filter.items()) {
    if (!record.contains(key) || record[key] != value) return false;
  }
  return true;
}

int waitExit(pid_t pid, int timeoutSeconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::string binDir() { return AIRLOCK_BIN_DIR; }

TempDir::TempDir() {
  char pattern[] = "/tmp/airlock-test-XXXXXX";
  if (!mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
  chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  std::string command = "rm -rf '" + path_ + "'";
  if (system(command.c_str()) != 0) fprintf(stderr, "could not remove %s\n", path_.c_str());
}

void TempDir::write(const std::string& name, const std::string& content) const {
  std::ofstream(file(name)) << content;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool pathExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

RunResult runProgram(const std::vector<std::string>& argv, int timeoutSeconds) {
  TempDir scratch;
  std::string outPath = scratch.file("output");
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    dup2(out, 1);
    dup2(out, 2);
    close_range(3, ~0U, 0);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  RunResult result;
  result.exitCode = waitExit(pid, timeoutSeconds);
  std::ifstream in(outPath);
  std::stringstream buffer;
  buffer << in.rdbuf();
  result.output = buffer.str();
  return result;
}

BrokerProcess::BrokerProcess(const std::map<std::string, std::string>& policies,
                             const std::map<std::string, std::string>& defines,
                             const BrokerOptions& options) {
  std::string policyDir = dir_.file("policies");
  mkdir(policyDir.c_str(), 0755);
  for (auto& [name, text] : policies) {
    dir_.write("policies/" + name, replaceAll(text, "${tmp}", dir_.path()));
  }
  socket_ = options.socketPath.empty() ? dir_.file("airlock.sock") : options.socketPath;
  environment_ = options.environment;
  listenFd_ = options.listenFd;
  audit_ = options.auditPath.empty() ? dir_.file("audit.jsonl") : options.auditPath;
  logPath_ = dir_.file("airlockd.log");

  brokerKeyPrefix_ = options.brokerKeyPrefix;
  if (brokerKeyPrefix_.empty()) {
    brokerKeyPrefix_ = dir_.file("broker");
    std::string error = audit::writeKeyPair(*audit::SigningKey::generate(), brokerKeyPrefix_);
    if (!error.empty()) throw std::runtime_error(error);
  }
  mkdir(clientKeysDir().c_str(), 0755);
  mkdir(dir_.file("clients").c_str(), 0700);
  for (auto& name : options.clients) {
    std::string prefix = dir_.file("clients/" + name);
    std::string error = audit::writeKeyPair(*audit::SigningKey::generate(), prefix);
    if (!error.empty()) throw std::runtime_error(error);
    std::string copy = "cp '" + prefix + ".pub' '" + clientKeysDir() + "/'";
    if (system(copy.c_str()) != 0) throw std::runtime_error("cannot copy " + prefix + ".pub");
  }

  argv_ = {options.program.empty() ? binDir() + "/airlockd" : options.program, "--policies", policyDir,    "--socket",
           socket_,                "--audit",    audit_,       "--workers",
           binDir(),               "--key",      brokerKeyPrefix_ + ".key",
           "--client-keys",        clientKeysDir()};
  for (auto& [name, value] : defines) {
    argv_.push_back("--define");
    argv_.push_back(name + "=" + value);
  }
  argv_.insert(argv_.end(), options.extraArgs.begin(), options.extraArgs.end());
  spawn();
}

void BrokerProcess::spawn() {
  pid_ = fork();
  if (pid_ == 0) {
    int log = open(logPath_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    dup2(log, 2);
    dup2(log, 1);
    for (auto& variable : environment_) putenv(const_cast<char*>(variable.c_str()));
    if (listenFd_ >= 0) {
      // Socket activation as systemd does it: the socket at fd 3, named for this very process.
      if (listenFd_ == 3) {
        fcntl(3, F_SETFD, 0);
      } else {
        dup2(listenFd_, 3);
      }
      setenv("LISTEN_FDS", "1", 1);
      setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
    }
    close_range(listenFd_ >= 0 ? 4 : 3, ~0U, 0);  // airlockd gets no other fd of the test runner
    std::vector<char*> args;
    for (auto& a : argv_) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

std::string BrokerProcess::clientKey(const std::string& name) const {
  return dir_.file("clients/" + name + ".key");
}

Client BrokerProcess::connect(const std::string& name) const {
  return Client::connect(socket_, clientKey(name), brokerPublicKey());
}

bool BrokerProcess::restart() {
  stop();
  spawn();
  return waitUntilReady();
}

BrokerProcess::~BrokerProcess() { stop(); }

bool BrokerProcess::waitUntilReady(int timeoutSeconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (canConnect(socket_)) return true;
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

RunResult BrokerProcess::verifyAuditLog() const {
  return runProgram({binDir() + "/airlock", "audit", "verify", audit_, "--key", brokerPublicKey(),
                     "--require-closed"});
}

int BrokerProcess::waitForExit() {
  if (pid_ <= 0) return -1;
  int code = waitExit(pid_, 20);
  pid_ = -1;
  return code;
}

int BrokerProcess::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int code = waitExit(pid_, 20);
  pid_ = -1;
  return code;
}

int BrokerProcess::killHard() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGKILL);
  int code = waitExit(pid_, 20);
  pid_ = -1;
  return code;
}

std::vector<nlohmann::json> BrokerProcess::auditRecords() const {
  std::ifstream in(audit_);
  std::stringstream content;
  content << in.rdbuf();
  std::string text = content.str();
  // Only whole lines: airlockd may be appending while a test reads, and a reader can see the
  // start of a record whose write has not finished.
  std::vector<nlohmann::json> records;
  for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos;
       start = end + 1) {
    if (end > start) records.push_back(nlohmann::json::parse(text.substr(start, end - start)));
  }
  return records;
}

std::vector<nlohmann::json> BrokerProcess::auditRecords(const nlohmann::json& filter) const {
  std::vector<nlohmann::json> selected;
  for (auto& record : auditRecords()) {
    if (matches(record, filter)) selected.push_back(record);
  }
  return selected;
}

nlohmann::json BrokerProcess::waitForRecord(const nlohmann::json& filter,
                                            int timeoutSeconds) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
  while (std::chrono::steady_clock::now() < deadline) {
    auto found = auditRecords(filter);
    if (!found.empty()) return found.back();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return nullptr;
}

std::string BrokerProcess::log() const {
  std::ifstream in(logPath_);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

nlohmann::json BrokerProcess::status(const std::string& admin) const {
  auto shown = runProgram({binDir() + "/airlock", "status", "--json", "--socket", socket_,
                           "--key", clientKey(admin), "--broker-key", brokerPublicKey()});
  if (shown.exitCode != 0) {
    ADD_FAILURE() << "airlock status: " << shown.output;
    return nullptr;
  }
  return nlohmann::json::parse(shown.output);
}

nlohmann::json BrokerProcess::unitStatus(const std::string& admin, const std::string& name) const {
  auto shown = status(admin);
  if (shown.is_null()) return nullptr;
  for (auto& unit : shown["units"]) {
    if (unit["name"] == name) return unit;
  }
  ADD_FAILURE() << "no unit " << name << " in " << shown.dump();
  return nullptr;
}

bool BrokerProcess::waitForCallsInFlight(const std::string& admin, uint64_t count) const {
  for (int i = 0; i < 2000; ++i) {
    auto shown = status(admin);
    if (!shown.is_null() && shown["calls_in_flight"] == count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::unique_ptr<BrokerProcess> startWithAdmin(std::map<std::string, std::string> policies) {
  BrokerOptions options;
  options.clients = {TEST_CLIENT, TEST_ADMIN};
  policies["broker.toml"] = std::string("[broker]\nadmins = [\"") + TEST_ADMIN + "\"]\n";
  auto broker = std::make_unique<BrokerProcess>(policies, std::map<std::string, std::string>{},
                                                options);
  EXPECT_TRUE(broker->waitUntilReady()) << broker->log();
  return broker;
}

}  // namespace airlock::testing

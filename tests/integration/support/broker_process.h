#pragma once
// A real airlockd for one test: its own temporary directory with policies, socket and audit
// log, started as a child process and stopped (SIGTERM, then SIGKILL) when the object dies.

#include <sys/types.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace airlock {
class Client;
}

namespace airlock::testing {

// The client every test broker knows unless told otherwise; policies name it `caller`.
inline constexpr char TEST_CLIENT[] = "tester";

std::string binDir();  // where the build put airlockd, airlock and the test programs

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

std::string readFile(const std::string& path);  // the whole file; empty if it cannot be read
bool pathExists(const std::string& path);        // lstat: a dangling symlink exists

struct RunResult {
  int exitCode = -1;
  std::string output;  // stdout and stderr together
};

// Runs a program to completion (at most `timeoutSeconds`), capturing its output.
RunResult runProgram(const std::vector<std::string>& argv, int timeoutSeconds = 30);

// What a test may change about how airlockd is started.
//
// Every broker gets a key (--key) and a client keys directory (--client-keys) holding one
// NAME.pub per entry of `clients`; the secret halves stay in the test's directory, outside it.
struct BrokerOptions {
  std::vector<std::string> extraArgs;  // appended to airlockd's command line
  std::string auditPath;               // --audit; empty: audit.jsonl in the broker's dir
  std::string brokerKeyPrefix;         // PREFIX.key/.pub for --key; empty: made in the broker's dir
  std::vector<std::string> clients = {TEST_CLIENT};
  std::string socketPath;  // --socket; empty: airlock.sock in the broker's dir
  std::vector<std::string> environment;  // NAME=VALUE added to airlockd's environment
  std::string program;  // the file started as airlockd; empty: binDir()/airlockd
  int listenFd = -1;
  // >= 0: passed as fd 3 with LISTEN_FDS=1 and LISTEN_PID=airlockd's pid, as systemd's socket
  // activation does (borrowed: the caller keeps it open while airlockd may start)
};

class BrokerProcess;

// The client every admin test broker lists in [broker] admins.
inline constexpr char TEST_ADMIN[] = "ops";

// A broker for `policies` plus a broker.toml naming TEST_ADMIN in [broker] admins, with
// TEST_CLIENT and TEST_ADMIN registered, started and ready (a test failure otherwise).
std::unique_ptr<BrokerProcess> startWithAdmin(std::map<std::string, std::string> policies);

class BrokerProcess {
 public:
  // `policies` maps file names to TOML text. `${tmp}` in the text is replaced by this test's
  // temporary directory; further --define values can be given.
  explicit BrokerProcess(const std::map<std::string, std::string>& policies,
                         const std::map<std::string, std::string>& defines = {},
                         const BrokerOptions& options = {});
  ~BrokerProcess();

  const std::string& socket() const { return socket_; }
  const std::string& auditPath() const { return audit_; }
  const TempDir& dir() const { return dir_; }
  std::string brokerPublicKey() const { return brokerKeyPrefix_ + ".pub"; }
  std::string clientKeysDir() const { return dir_.file("client-keys"); }
  // The secret key of a client made for this broker (BrokerOptions::clients): NAME.key.
  std::string clientKey(const std::string& name = TEST_CLIENT) const;
  // Connects and authenticates as `name` with the broker's key pinned.
  Client connect(const std::string& name = TEST_CLIENT) const;
  // Stops airlockd (SIGTERM) and starts it again with the same command line, e.g. after a key
  // was removed from clientKeysDir(). Returns waitUntilReady().
  bool restart();
  pid_t pid() const { return pid_; }

  bool waitUntilReady(int timeoutSeconds = 20);  // the socket accepts connections
  std::vector<nlohmann::json> auditRecords() const;
  // Records matching every key/value of `filter` (e.g. {{"event","fs.open"}}).
  std::vector<nlohmann::json> auditRecords(const nlohmann::json& filter) const;
  // Waits until some record matches `filter`; returns it (or null json on timeout).
  nlohmann::json waitForRecord(const nlohmann::json& filter, int timeoutSeconds = 20) const;

  // `airlock status --json` as `admin` (a client [broker] admins lists), parsed; null if the
  // command failed (a test failure is added).
  nlohmann::json status(const std::string& admin) const;
  // The entry of unit `name` in it; null if there is none (a test failure is added).
  nlohmann::json unitStatus(const std::string& admin, const std::string& name) const;
  // Waits (at most 20 s) until airlockd counts `count` calls in flight.
  bool waitForCallsInFlight(const std::string& admin, uint64_t count) const;

  int stop();  // SIGTERM and wait; returns the exit status (or 128+signal)
  int waitForExit();  // for an airlockd that stops by itself (at most 20 s, then SIGKILL)
  int killHard();  // SIGKILL and reap: a crash, no clean stop; returns 128+9
  std::string log() const;  // airlockd's stderr so far
  // `airlock audit verify --require-closed` of the log with the broker's key (a stopped broker's)
  RunResult verifyAuditLog() const;

 private:
  void spawn();

  TempDir dir_;
  std::string socket_, audit_, logPath_, brokerKeyPrefix_;
  std::vector<std::string> argv_;
  std::vector<std::string> environment_;
  int listenFd_ = -1;
  pid_t pid_ = -1;
};

}  // namespace airlock::testing

#pragma once
// The host client SDK: how an application calls units through airlockd.
//
//   auto broker = airlock::Client::connect("/run/airlock/airlock.sock", "web.key", "broker.pub");
//   auto outcome = broker.unit("thumbnailer").call("thumbnail", "/srv/images/cat.png");
//   if (!outcome.ok()) std::cerr << outcome.describe() << "\n";   // denied, unit crashed, ...
//
// A Client owns a kj event loop, so it is used from one thread and only one Client may exist per
// thread at a time. Calls block until the broker answers.

#include <capnp/capability.h>
#include <kj/async.h>
#include <kj/memory.h>

#include <chrono>
#include <string>
#include <vector>

namespace airlock {

struct ClientIdentity;  // sdk/host/handshake.h
namespace audit {
class PublicKey;
}

enum class CallErrorKind {
  NONE,
  DENIED,            // the policy refused the call
  UNIT_CRASHED,      // the worker died while handling it
  TIMED_OUT,         // the worker did not answer within the unit's call timeout
  BAD_REQUEST,       // malformed arguments (e.g. payload too large)
  UNIT_UNAVAILABLE,  // no worker could be started
  NO_SUCH_METHOD,
  WORKER_FAILED,     // the method reported an error
  NO_SUCH_UNIT,
  INTERNAL,          // the broker could not complete it (e.g. audit log unwritable)
  DISCONNECTED,      // the connection to airlockd was lost
  BUSY,              // the unit is at its flow limit (ruleId() names it): nothing ran; try later
};
const char* callErrorKindName(CallErrorKind kind);  // "denied", "unit crashed", ...

class CallOutcome {
 public:
  static CallOutcome success(std::string payload);
  static CallOutcome failure(CallErrorKind kind, std::string message, std::string ruleId = "");

  bool ok() const { return kind_ == CallErrorKind::NONE; }
  const std::string& payload() const { return payloadOrMessage_; }   // when ok()
  CallErrorKind errorKind() const { return kind_; }
  const std::string& message() const { return payloadOrMessage_; }  // when !ok()
  const std::string& ruleId() const { return ruleId_; }              // set for DENIED
  std::string describe() const;  // "denied by rule default-deny: ..."

 private:
  CallErrorKind kind_ = CallErrorKind::NONE;
  std::string payloadOrMessage_;
  std::string ruleId_;
};

// What one run of a program unit ([unit] program) gave: `call` says whether it ran (ok) or why
// not (denied, timed out, ...); when it ran, the program's exit and its output.
struct RunOutcome {
  CallOutcome call = CallOutcome::success("");
  int status = 0;          // the exit status, when signal is 0
  int signal = 0;          // the signal that ended it, or 0
  std::string out, err;    // its stdout and stderr, each cut at the unit's max_payload_bytes
  bool outputCut = false;  // one of them was cut
  std::string refusedSyscall;  // the syscall the sandbox stopped it for, if any
};

class Client;

// A mode a grant hands a call: what the call's worker may open a granted path for.
enum class GrantMode : uint8_t { READ = 1, WRITE = 2, CREATE = 4, TRUNCATE = 8, APPEND = 16 };

// A path handed to one call (docs/policy.md "Call-scoped grants"): the unit's `grant` rules must
// let this client grant it, or the call is refused before any worker sees it; its worker may then
// open `path` with `modes` (through the unit's `granted_only` rules) until the call is answered.
//
// With `fd` >= 0, a descriptor grant: the host's own open file (a regular file or a directory) is
// what the worker gets when it opens `path`, whatever is at `path` itself; the unit's grant rule
// must list its kind in `descriptors`, and `modes` must be within what the descriptor permits
// (a read-only descriptor grants read only). The call sends a copy: `fd` stays the caller's, to
// close when it likes; the worker never gets the caller's file description, only a fresh one.
struct Grant {
  std::string path;  // absolute, as the worker will ask for it
  std::vector<GrantMode> modes;
  int fd = -1;       // borrowed for the call; -1: a path grant
};

class UnitRef {
 public:
  CallOutcome call(const std::string& method, const std::string& payload,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  CallOutcome call(const std::string& method, const std::string& payload,
                   const std::vector<Grant>& grants,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // The same, handing the call `grants` (at most 32).
  // `timeout` > 0 shortens the call's deadline to that long after airlockd receives it (never
  // past the unit's call_timeout_ms); past it the answer is TIMED_OUT and the worker replaced.

  RunOutcome run(const std::vector<std::string>& args, const std::string& input = "",
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // A program unit: runs its program once with `args` and `input` as stdin, decided by the
  // unit's `call` rules as method "run"; `timeout` as for call().

  // The unit's typed interface ([unit] interface in its policy), T generated from the same
  // schema. Call it with the usual Cap'n Proto requests and wait on Client::waitScope():
  //
  //   auto decoder = broker.unit("thumbnailer").typed<thumbnailer::rpc::ImageDecoder>();
  //   auto request = decoder.decodeRequest();
  //   request.setPng(bytes);
  //   auto answer = request.send().wait(broker.waitScope());  // throws "denied: ..." etc.
  //
  // A refused or failed call throws kj::Exception whose description starts with the error kind
  // ("denied: ", "timed out: ", "worker failed: ", ...).
  template <typename T>
  typename T::Client typed(const std::vector<Grant>& grants = {}) {
    return typedCapability(grants).template castAs<T>();
  }
  capnp::Capability::Client typedCapability(const std::vector<Grant>& grants = {});
  // With `grants`: every call made on the capability hands them to its call, as call() does.

 private:
  friend class Client;
  UnitRef(Client& client, std::string name) : client_(client), name_(std::move(name)) {}
  Client& client_;
  std::string name_;
};

class Client {
 public:
  // Connects and authenticates as the client whose secret key is `clientKeyFile` (NAME.key from
  // `airlock keygen --client NAME`, mode 0600), accepting only the airlockd whose public key is
  // `brokerPublicKeyFile` (broker.pub). The secret key is read, used to sign one handshake
  // answer, and wiped from memory before this returns. Throws kj::Exception saying what failed:
  // no socket, an unusable key file, a peer that is not that airlockd, or airlockd's refusal
  // (its audit log, event "auth", says why).
  static Client connect(const std::string& socketPath, const std::string& clientKeyFile,
                        const std::string& brokerPublicKeyFile);
  // The same with the identity and the broker's key already loaded (borrowed for the call).
  static Client connect(const std::string& socketPath, const ClientIdentity& identity,
                        const audit::PublicKey& brokerKey);

  Client(Client&&) noexcept;
  ~Client() noexcept(false);

  UnitRef unit(std::string name) { return UnitRef(*this, std::move(name)); }
  kj::WaitScope& waitScope();  // for waiting on typed calls' promises (UnitRef::typed)

  // Admin operations, for a client the policy's [broker] admins lists. Both throw kj::Exception
  // if airlockd refuses (its audit log, event admin, says why) or cannot be reached.
  struct Reloaded {
    bool applied = false;
    std::string revision;  // in force afterwards
    std::string summary;   // one line: what changed, or why it was refused
    std::vector<std::string> errors;
  };
  Reloaded reload();     // re-read policies and client keys, as SIGHUP does
  std::string status();  // one JSON object (docs/cli.md, `airlock status`)
  uint64_t drain();      // drain then stop, as SIGTERM does; returns the calls still in flight

 private:
  friend class UnitRef;
  struct Connection;
  capnp::Capability::Client typedCapability(const std::string& unit,
                                            const std::vector<Grant>& grants);
  explicit Client(kj::Own<Connection> connection);
  CallOutcome call(const std::string& unit, const std::string& method,
                   const std::string& payload, const std::vector<Grant>& grants,
                   std::chrono::milliseconds timeout);
  RunOutcome run(const std::string& unit, const std::vector<std::string>& args,
                 const std::string& input, std::chrono::milliseconds timeout);
  kj::Own<Connection> connection_;
};

}  // namespace airlock

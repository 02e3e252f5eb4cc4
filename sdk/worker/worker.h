#pragma once
// The worker SDK: what an untrusted library's wrapper program links to be served by airlockd.
//
//   int main(int argc, char** argv) {
//     airlock::Worker worker(argc, argv);
//     worker.method("thumbnail", [](airlock::Call& call) {
//       auto file = call.fs().open(std::string(call.payload()), airlock::OpenFlags::readOnly());
//       if (!file.ok()) return airlock::Reply::error(file.message());
//       return airlock::Reply::ok(makeThumbnail(file.fd()));
//     });
//     return worker.serve();
//   }
//
// The process is started by airlockd inside its sandbox with the broker channel on fd 3 and
// nothing else. Methods run one at a time on the main thread; inside one, brokered requests
// (fs().open, fs().mkdir, ...: sdk/worker/fs.h; units().invoke) block until the broker answers.

#include <airlock/capnp/worker.capnp.h>
#include <capnp/capability.h>
#include <kj/io.h>

#include <cstdint>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

// Relative to this file, so the same line works in the source tree (sdk/worker/) and in an
// installed tree (include/airlock/worker/), where consumers compile with only -I<prefix>/include.
#include "fs.h"

namespace airlock {

// The answer to secrets().get: the value, or why there is none. The value is zeroed when this
// object dies (copy it out only if you must).
class Secret {
 public:
  static Secret value(std::string bytes);
  static Secret denied(std::string reason);   // the policy refused it
  static Secret failed(std::string reason);   // allowed, but the store could not read it
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&&) = delete;
  ~Secret();

  bool ok() const { return ok_; }
  bool wasDenied() const { return denied_; }
  const std::string& value() const { return value_; }      // empty unless ok()
  const std::string& message() const { return message_; }  // empty if ok()

 private:
  Secret() = default;
  bool ok_ = false, denied_ = false;
  std::string value_, message_;
};

class Secrets {
 public:
  virtual ~Secrets() noexcept(false) = default;
  virtual Secret get(const std::string& name) = 0;
  // `name` is a secret name the unit's policy lists (`allow = "secrets.get"`, `name = [...]`).
};

// The answer to a brokered connect: a connected socket the caller now owns (ok()), or why there
// is none: denied (the policy refused it) or failed (allowed, but the name did not resolve or
// the peer did not accept). The same shape as a brokered open.
using ConnectedSocket = OpenedFile;

class Net {
 public:
  virtual ~Net() noexcept(false) = default;
  virtual ConnectedSocket connect(const std::string& host, uint16_t port) = 0;
  // TCP to `host` (a name or an IPv4/IPv6 literal) and `port`, as a net.connect rule with
  // `host` and `port` allows; the broker resolves the name and connects. The socket is blocking.
  virtual ConnectedSocket connectUnix(const std::string& path) = 0;
  // A Unix stream socket at the absolute host path `path`, as a rule's `unix_path` allows.
};

// The answer to units().invoke: the callee's reply, or why there is none.
class InvokeResult {
 public:
  enum class Kind { OK, ERROR, DENIED, FAILED };
  static InvokeResult ok(std::string payload) { return InvokeResult(Kind::OK, kj::mv(payload)); }
  static InvokeResult error(std::string message);   // the callee's method reported an error
  static InvokeResult denied(std::string message);  // either side's policy (or the chain) refused
  static InvokeResult failed(std::string message);  // no answer: no such unit or method,
                                                    // crashed, timed out, unavailable

  Kind kind() const { return kind_; }
  bool ok() const { return kind_ == Kind::OK; }
  bool wasDenied() const { return kind_ == Kind::DENIED; }
  const std::string& payload() const { return text_; }  // the callee's reply; empty unless ok()
  const std::string& message() const { return text_; }  // why; empty if ok()

 private:
  InvokeResult(Kind kind, std::string text) : kind_(kind), text_(kj::mv(text)) {}
  Kind kind_;
  std::string text_;
};

class Units {
 public:
  virtual ~Units() noexcept(false) = default;
  virtual InvokeResult invoke(const std::string& unit, const std::string& method,
                              std::string_view payload) = 0;
  // Calls `unit`'s `method` through the broker and blocks until it answers. Allowed only if this
  // unit's invoke rules allow it and `unit`'s call rules list this unit in caller_unit; refused
  // for a unit already on the chain of calls this one is nested in (a cycle, itself included)
  // and past the broker's nesting bound.
};

enum class LogLevel { DEBUG, INFO, WARN, ERROR };

class Reply {
 public:
  static Reply ok(std::string payload) { return Reply(true, kj::mv(payload)); }
  static Reply error(std::string message) { return Reply(false, kj::mv(message)); }
  bool isOk() const { return ok_; }
  const std::string& payloadOrMessage() const { return text_; }

 private:
  Reply(bool ok, std::string text) : ok_(ok), text_(kj::mv(text)) {}
  bool ok_;
  std::string text_;
};

// One host call being served. Valid only during the method; its capabilities expire with it.
class Call {
 public:
  virtual ~Call() noexcept(false) = default;
  virtual const std::string& method() const = 0;
  virtual std::string_view payload() const = 0;
  virtual Fs& fs() = 0;
  // Throws if the unit's policy has no allow rule of any fs.* operation: the capability was
  // never handed over.
  virtual Secrets& secrets() = 0;
  // Throws if the unit's policy has no secrets.get allow rule: the capability was never handed
  // over.
  virtual Net& net() = 0;
  // Throws if the unit's policy has no net.connect allow rule: the capability was never handed
  // over. The sandbox itself has no network: socket(2) and connect(2) are refused.
  virtual Units& units() = 0;
  // Throws if the unit's policy has no invoke allow rule: the capability was never handed over.
  virtual void log(LogLevel level, std::string_view message) = 0;
  // One line in airlockd's log, tagged with the unit and this worker's pid. Blocks until the
  // broker has it. Lines over 4 KiB are cut; past the unit's rate (100 lines/s, bursts of 200)
  // lines are dropped and counted by the broker.
};

using Method = std::function<Reply(Call&)>;

// A call handed out by Worker::next() instead of run by a registered function: for languages
// whose code C cannot call back without writable executable memory (Python's ctypes callbacks),
// which the sandbox never grants by default. Valid until answered or destroyed; its
// capabilities expire with it. Destroyed unanswered, the call fails ("the method gave no
// answer").
class PulledCall {
 public:
  virtual ~PulledCall() noexcept(false) = default;
  virtual Call& call() = 0;
  virtual void answer(Reply reply) = 0;  // once; later answers are ignored
};

namespace _ {
struct ServingChannel;  // worker.cc: the broker channel and its event loop, while serving
}  // namespace _

// For a unit with a typed interface ([unit] interface = "FILE.capnp:Name" in its policy): makes
// the object that serves one typed call, given that call's capabilities (null fields for those
// the policy does not grant; they expire when the call ends). airlockd calls exactly one method
// on it, then drops it. It runs on the worker's event loop: its methods must not block (use the
// capabilities' promises, not wait()).
using TypedFactory = std::function<capnp::Capability::Client(rpc::Capabilities::Reader caps)>;

class Worker {
 public:
  Worker(int argc, char** argv);
  // Checks that fd 3 is the broker channel; exits with a message on stderr otherwise.
  ~Worker();

  void method(std::string name, Method handler);
  // Register before serve(). A method that throws answers the call with an error.

  void typed(TypedFactory factory);
  // Register before serve(). Without it, typed calls fail ("this worker has no typed
  // interface").

  int serve();
  // Serves calls until the broker closes the channel; returns the process exit code.

  void pulled(std::string name);
  // Register before next(): calls of `name` are handed out by next() rather than run here.

  std::unique_ptr<PulledCall> next();
  // The pull form of serve(), on the main thread: runs the channel until a call of a pulled()
  // name arrives and returns it (calls of registered methods are run meanwhile, unknown names
  // answered as serve() does); null once the broker closes the channel. Answer each call before
  // asking for the next: calls run one at a time, as with serve().

 private:
  std::map<std::string, Method> methods_;
  TypedFactory typed_;
  std::unique_ptr<_::ServingChannel> channel_;  // made by the first next()
};

}  // namespace airlock

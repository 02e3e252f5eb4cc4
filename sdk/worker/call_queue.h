#pragma once
// Calls received by the worker's RPC server, waiting for the main loop to run them.
// Worker-internal; single-threaded.

#include <kj/async.h>

#include <deque>
#include <string>

#include <airlock/capnp/worker.capnp.h>

#include "sdk/worker/worker.h"

namespace airlock::_ {

// A reply whose text is this marker means "no such method" (never a real error text: NUL).
inline const std::string NO_SUCH_METHOD_MARK = std::string("\0no-such-method", 15);

struct PendingCall {
  std::string method;
  std::string payload;
  kj::Maybe<rpc::Fs::Client> fs;
  kj::Maybe<rpc::Secrets::Client> secrets;
  kj::Maybe<rpc::Net::Client> net;
  kj::Maybe<rpc::Log::Client> log;
  kj::Maybe<rpc::Units::Client> units;
  kj::Own<kj::PromiseFulfiller<Reply>> done;
};

class CallQueue {
 public:
  void push(kj::Own<PendingCall> call);
  kj::Promise<kj::Maybe<kj::Own<PendingCall>>> next();
  // Resolves with the oldest queued call, waiting for one if none is queued.

 private:
  std::deque<kj::Own<PendingCall>> calls_;
  kj::Maybe<kj::Own<kj::PromiseFulfiller<kj::Maybe<kj::Own<PendingCall>>>>> waiter_;
};

}  // namespace airlock::_

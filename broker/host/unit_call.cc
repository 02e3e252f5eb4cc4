// The host -> unit call path: UnitServer::call.

#include <kj/debug.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "broker/caps/fs.h"
#include "broker/caps/net.h"
#include "broker/caps/secrets.h"
#include "broker/host/gateway.h"
#include "broker/policy/decide.h"

namespace airlock::broker {

namespace _ {

// How long to wait for a worker's exit status after its channel broke, to name the cause
// (e.g. the signal) in the answer.
constexpr kj::Duration EXIT_STATUS_WAIT = 2 * kj::SECONDS;

struct Outcome {
  bool ok = false;
  rpc::ErrorKind kind = rpc::ErrorKind::INTERNAL;
  std::string text;  // the reply payload when ok, the error message otherwise
  pid_t workerPid = 0;

  static Outcome success(std::string payload, pid_t pid) {
    return Outcome{true, rpc::ErrorKind::INTERNAL, kj::mv(payload), pid};
  }
  static Outcome failure(rpc::ErrorKind kind, std::string message, pid_t pid = 0) {
    return Outcome{false, kind, kj::mv(message), pid};
  }
};

const char* kindName(rpc::ErrorKind kind) {
  switch (kind) {
    case rpc::ErrorKind::DENIED: return "denied";
    case rpc::ErrorKind::UNIT_CRASHED: return "unit crashed";
    case rpc::ErrorKind::TIMED_OUT: return "timed out";
    case rpc::ErrorKind::BAD_REQUEST: return "bad request";
    case rpc::ErrorKind::UNIT_UNAVAILABLE: return "unit unavailable";
    case rpc::ErrorKind::NO_SUCH_METHOD: return "no such method";
    case rpc::ErrorKind::WORKER_FAILED: return "worker failed";
    case rpc::ErrorKind::NO_SUCH_UNIT: return "no such unit";
    case rpc::ErrorKind::INTERNAL: return "internal";
  }
  return "internal";
}

Outcome fromWorkerResult(rpc::WorkerResult::Reader result, pid_t pid) {
  switch (result.which()) {
    case rpc::WorkerResult::OK: {
      auto bytes = result.getOk();
      return Outcome::success(std::string(reinterpret_cast<const char*>(bytes.begin()),
                                          bytes.size()), pid);
    }
    case rpc::WorkerResult::ERROR:
      return Outcome::failure(rpc::ErrorKind::WORKER_FAILED, result.getError(), pid);
    case rpc::WorkerResult::NO_SUCH_METHOD:
      return Outcome::failure(rpc::ErrorKind::NO_SUCH_METHOD, "the worker exports no such method",
                              pid);
  }
  return Outcome::failure(rpc::ErrorKind::WORKER_FAILED, "unrecognised answer from worker", pid);
}

void setError(rpc::CallResult::Builder result, rpc::ErrorKind kind, const std::string& message,
              const std::string& ruleId) {
  auto error = result.initError();
  error.setKind(kind);
  error.setMessage(message);
  error.setRuleId(ruleId);
}

int64_t microsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start).count();
}

}  // namespace _

kj::Promise<void> UnitServer::call(CallContext context) {
  auto started = std::chrono::steady_clock::now();
  // Receive.
  // The policy set this call is decided by, start to end, whatever a reload does meanwhile.
  std::shared_ptr<const PolicySet> policySet = routing_.policy;
  auto params = context.getParams();
  std::string method = params.getMethod();
  auto payloadReader = params.getPayload();

  audit::AuditRecord record;
  record.event = "call";
  record.unit = unit_;
  record.caller = caller_.audit();
  record.callId = routing_.newCallId();
  record.policyRev = policySet->revision;
  record.args["method"] = method;
  record.args["payload_bytes"] = payloadReader.size();

  auto refuse = [&](rpc::ErrorKind kind, const std::string& ruleId, const std::string& reason) {
    record.decision = "deny";
    record.rule = ruleId;
    record.reason = reason;
    record.result = _::kindName(kind);
    record.durationMicros = _::microsSince(started);
    bool audited = routing_.audit.append(record);
    _::setError(context.getResults().initResult(),
                audited ? kind : rpc::ErrorKind::INTERNAL,
                audited ? reason : "the broker cannot write its audit log", ruleId);
    return kj::READY_NOW;
  };

  // Decide.
  if (routing_.draining) {
    return refuse(rpc::ErrorKind::UNIT_UNAVAILABLE, std::string(policy::DEFAULT_DENY_RULE_ID),
                  "airlockd is stopping: it finishes the calls it has and takes no new ones");
  }
  if (policySet->clients.find(caller_.name) == nullptr) {
    return refuse(rpc::ErrorKind::DENIED, std::string(policy::DEFAULT_DENY_RULE_ID),
                  "client " + caller_.name + "'s key was removed by a policy reload: its "
                  "sessions are revoked");
  }
  const policy::UnitPolicy* found = policySet->find(unit_);
  std::shared_ptr<UnitPool> pool = routing_.pool(unit_);
  if (found == nullptr || pool == nullptr) {
    return refuse(rpc::ErrorKind::NO_SUCH_UNIT, std::string(policy::DEFAULT_DENY_RULE_ID),
                  "no policy defines unit \"" + unit_ + "\"");
  }
  const policy::UnitPolicy& unit = *found;
  auto unitPolicy = unitOf(policySet, unit);
  if (payloadReader.size() > unit.maxPayloadBytes) {
    return refuse(rpc::ErrorKind::BAD_REQUEST, "unit.max_payload_bytes",
                  "payload of " + std::to_string(payloadReader.size()) +
                      " bytes exceeds max_payload_bytes " + std::to_string(unit.maxPayloadBytes));
  }
  auto decision = policy::decideCall(unit, caller_.policy(), method);
  if (!decision.allowed()) {
    return refuse(rpc::ErrorKind::DENIED, decision.ruleId, decision.reason);
  }
  record.decision = "allow";
  record.rule = decision.ruleId;
  record.reason = decision.reason;

  // Act: dispatch to a worker, with this call's capabilities, under the unit's deadline.
  auto payload = kj::heapArray<kj::byte>(payloadReader);
  std::string caller = record.caller, callId = record.callId;
  auto outcome = pool->acquire().then(
      [this, pool, policySet, unitPolicy, method, payload = kj::mv(payload), caller, callId](
          kj::Maybe<WorkerProcess&> acquired) mutable -> kj::Promise<_::Outcome> {
        const policy::UnitPolicy& unit = *unitPolicy;
        WorkerProcess* worker = nullptr;
        KJ_IF_MAYBE(w, acquired) { worker = w; }
        if (worker == nullptr) {
          return _::Outcome::failure(rpc::ErrorKind::UNIT_UNAVAILABLE,
                                     "no worker of unit " + unit.name +
                                         " is running: " + pool->lastFailure());
        }
        pid_t pid = worker->pid();
        auto scope = kj::refcounted<CallScope>(unitPolicy, pid, caller, callId, routing_.audit,
                                               policySet->roots,
                                               routing_.secrets,
                                               routing_.secretHasher, routing_.net);
        auto request = worker->worker().callRequest();
        request.setMethod(method);
        request.setPayload(payload);
        // A capability the policy does not grant stays a null field (worker.capnp).
        auto caps = request.initCaps();
        if (unit.allowsAnyFs()) {
          caps.setFs(kj::heap<FsServer>(kj::addRef(*scope)));
        }
        if (unit.allowsAny(policy::Operation::SECRETS_GET)) {
          caps.setSecrets(kj::heap<SecretsServer>(kj::addRef(*scope)));
        }
        if (unit.allowsAny(policy::Operation::NET_CONNECT)) {
          caps.setNet(kj::heap<NetServer>(kj::addRef(*scope)));
        }
        auto unitLog = routing_.logs.find(unit.name);
        KJ_ASSERT(unitLog != routing_.logs.end(), "main() makes a UnitLog for every unit",
                  unit.name);
        caps.setLog(kj::heap<LogServer>(kj::addRef(*scope), *unitLog->second));
        auto exited = worker->whenExited();
        auto answered = request.send().then(
            [pid](capnp::Response<rpc::Worker::CallResults>&& response)
                -> kj::Promise<_::Outcome> {
              return _::fromWorkerResult(response.getResult(), pid);
            },
            [this, pool, pid, exited = kj::mv(exited)](kj::Exception&& e) mutable
                -> kj::Promise<_::Outcome> {
              // The channel broke or the worker spoke nonsense: either way it is done for.
              pool->kill(pid);
              std::string lost = e.getDescription().cStr();
              return exited
                  .then([pid](sandbox::ExitStatus status) {
                    return _::Outcome::failure(rpc::ErrorKind::UNIT_CRASHED,
                                               "worker pid " + std::to_string(pid) + " " +
                                                   status.describe(), pid);
                  })
                  .exclusiveJoin(routing_.timer.afterDelay(_::EXIT_STATUS_WAIT).then([pid, lost]() {
                    return _::Outcome::failure(rpc::ErrorKind::UNIT_CRASHED,
                                               "worker pid " + std::to_string(pid) +
                                                   " stopped answering: " + lost, pid);
                  }));
            });
        auto deadline = routing_.timer.afterDelay(unit.callTimeout.count() * kj::MILLISECONDS)
                            .then([pool, pid, unitPolicy]() {
                              pool->kill(pid);  // a worker past its deadline is replaced
                              return _::Outcome::failure(
                                  rpc::ErrorKind::TIMED_OUT,
                                  "no answer within call_timeout_ms " +
                                      std::to_string(unitPolicy->callTimeout.count()), pid);
                            });
        return answered.exclusiveJoin(kj::mv(deadline))
            .attach(kj::defer([scope = kj::mv(scope)]() mutable { scope->expire(); }));
      });

  // Audit the result, then reply.
  // Counted from dispatch until the answer is written, so a draining broker waits for it.
  ++routing_.callsInFlight;
  ++pool->callsInFlight;
  auto counted = kj::defer([this, pool]() {
    --routing_.callsInFlight;
    --pool->callsInFlight;
  });
  return outcome.then([this, context, record = kj::mv(record), started](_::Outcome o) mutable {
    record.workerPid = o.workerPid;
    record.result = o.ok ? "ok" : std::string(_::kindName(o.kind)) + ": " + o.text;
    record.durationMicros = _::microsSince(started);
    auto result = context.getResults().initResult();
    if (!routing_.audit.append(record)) {
      _::setError(result, rpc::ErrorKind::INTERNAL, "the broker cannot write its audit log", "");
    } else if (o.ok) {
      result.setOk(kj::arrayPtr(reinterpret_cast<const kj::byte*>(o.text.data()), o.text.size()));
    } else {
      _::setError(result, o.kind, o.text, "");
    }
  }).attach(kj::mv(counted));
}

}  // namespace airlock::broker

#include "broker/calls/dispatch.h"

#include <kj/debug.h>

#include "broker/calls/invoke.h"
#include "broker/calls/typed_send.h"
#include "broker/caps/fs.h"
#include "broker/caps/net.h"
#include "broker/caps/secrets.h"

namespace airlock::broker {

namespace _ {

// How long to wait for a worker's exit status after its channel broke, to name the cause
// (e.g. the signal) in the answer.
constexpr kj::Duration EXIT_STATUS_WAIT = 2 * kj::SECONDS;

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

// Sets the capabilities `unit`'s policy grants; one it does not grant stays a null field
// (worker.capnp).
void grantCaps(Routing& routing, const Dispatch& d, CallScope& scope, kj::TimePoint deadline,
               rpc::Capabilities::Builder caps) {
  const policy::UnitPolicy& unit = *d.unit;
  kj::Own<RequestPacer>& pacer = routing.pacers[unit.name];
  if (pacer.get() == nullptr) pacer = kj::refcounted<RequestPacer>(routing.timer);
  // Every capability's requests wait their turn under the unit's max_requests_per_second.
  auto pace = [&](auto server) {
    using Interface = typename std::remove_reference_t<decltype(*server)>::Serves;
    return paced(kj::mv(server), capnp::Schema::from<Interface>(), kj::addRef(*pacer), d.unit,
                 kj::addRef(scope))
        .template castAs<Interface>();
  };
  if (unit.allowsAnyFs()) {
    caps.setFs(pace(kj::heap<FsServer>(kj::addRef(scope))));
  }
  if (unit.allowsAny(policy::Operation::SECRETS_GET)) {
    caps.setSecrets(pace(kj::heap<SecretsServer>(kj::addRef(scope))));
  }
  if (unit.allowsAny(policy::Operation::NET_CONNECT)) {
    caps.setNet(pace(kj::heap<NetServer>(kj::addRef(scope))));
  }
  if (unit.allowsAny(policy::Operation::INVOKE)) {
    InvokeChain chain{d.chain, deadline};
    chain.units.push_back(unit.name);
    caps.setUnits(
        pace(kj::heap<UnitsServer>(kj::addRef(scope), routing, d.policySet, kj::mv(chain))));
  }
  auto unitLog = routing.logs.find(unit.name);
  KJ_ASSERT(unitLog != routing.logs.end(), "main() makes a UnitLog for every unit", unit.name);
  caps.setLog(pace(kj::heap<LogServer>(kj::addRef(scope), *unitLog->second)));
}

// The worker's answer, or UNIT_CRASHED (naming how it ended) if its channel breaks first.
kj::Promise<Outcome> answerOf(Routing& routing, std::shared_ptr<UnitPool> pool,
                              WorkerProcess& worker, kj::Promise<Outcome> sent) {
  pid_t pid = worker.pid();
  auto exited = worker.whenExited();
  return sent.catch_(
      [&routing, pool, pid, exited = kj::mv(exited)](kj::Exception&& e) mutable
          -> kj::Promise<Outcome> {
        // The channel broke or the worker spoke nonsense: either way it is done for.
        std::string lost = e.getDescription().cStr();
        pool->kill(pid, "stopped answering: " + lost);
        return exited
            .then([pid](sandbox::ExitStatus status) {
              if (status.outOfMemory) {
                return Outcome::failure(rpc::ErrorKind::UNIT_CRASHED,
                                        "out of memory: worker pid " + std::to_string(pid) +
                                            " " + status.describe() +
                                            " at the unit's [resources] memory_max_mib", pid);
              }
              return Outcome::failure(rpc::ErrorKind::UNIT_CRASHED,
                                      "worker pid " + std::to_string(pid) + " " +
                                          status.describe(), pid);
            })
            .exclusiveJoin(routing.timer.afterDelay(EXIT_STATUS_WAIT).then([pid, lost]() {
              return Outcome::failure(rpc::ErrorKind::UNIT_CRASHED,
                                      "worker pid " + std::to_string(pid) +
                                          " stopped answering: " + lost, pid);
            }));
      });
}

// Sends the call to the worker with its capabilities: `Worker.call`, or for a typed call
// `bind(caps)` with the call pipelined on it.
kj::Promise<Outcome> send(Routing& routing, const Dispatch& d, CallScope& scope,
                          kj::TimePoint deadline, WorkerProcess& worker) {
  pid_t pid = worker.pid();
  KJ_IF_MAYBE(typed, d.typed) {
    auto bind = worker.worker().bindRequest();
    grantCaps(routing, d, scope, deadline, bind.initCaps());
    return sendTyped(kj::mv(bind), *typed, pid);
  }
  auto request = worker.worker().callRequest();
  request.setMethod(d.method);
  request.setPayload(d.payload);
  grantCaps(routing, d, scope, deadline, request.initCaps());
  return request.send().then([pid](capnp::Response<rpc::Worker::CallResults>&& response) {
    return fromWorkerResult(response.getResult(), pid);
  });
}

// An answer over the unit's max_payload_bytes is refused as the request would have been: the
// limit bounds what one call moves through the broker, both ways.
Outcome heldToPayloadLimit(Outcome o, size_t maxPayloadBytes) {
  if (!o.ok) return o;
  size_t bytes = o.typedResults != nullptr ? o.typedResults->size() * sizeof(capnp::word)
                                           : o.text.size();
  if (bytes <= maxPayloadBytes) return o;
  return Outcome::failure(rpc::ErrorKind::WORKER_FAILED,
                          "the worker's answer of " + std::to_string(bytes) +
                              " bytes exceeds max_payload_bytes " +
                              std::to_string(maxPayloadBytes) + " (unit.max_payload_bytes)",
                          o.workerPid);
}

// Sends an acquired worker the call, and waits for its answer until `deadline`.
kj::Promise<Outcome> callWorker(Routing& routing, const Dispatch& d, WorkerProcess& worker,
                                kj::TimePoint deadline, const std::string& why) {
  pid_t pid = worker.pid();
  auto scope = kj::refcounted<CallScope>(d.unit, pid, d.caller, d.callId, routing.audit,
                                         d.policySet->roots, routing.secrets,
                                         routing.secretHasher, routing.net, worker.heldFds(),
                                         worker.landlockAbi() > 0, d.grants);
  // The worker's own records (its brokered syscalls, a refused syscall, its exit) name this
  // call while it is in service: until its answer, crash or deadline is settled.
  auto serving = worker.serving().begin(d.callId, d.caller);
  auto answered = answerOf(routing, d.pool, worker, send(routing, d, *scope, deadline, worker));
  auto timedOut = routing.timer.atTime(deadline).then([pool = d.pool, pid, why]() {
    pool->kill(pid, "timed out: " + why);  // a worker past its deadline is replaced
    return Outcome::failure(rpc::ErrorKind::TIMED_OUT, why, pid);
  });
  kj::Maybe<kj::Own<resources::WorkerLeaf>> leaf = worker.leaf();
  uint64_t cpuBefore = 0;
  KJ_IF_MAYBE(measured, leaf) cpuBefore = (*measured)->cpuMicros();
  return answered.exclusiveJoin(kj::mv(timedOut))
      .then([leaf = kj::mv(leaf), cpuBefore](Outcome o) {
        KJ_IF_MAYBE(measured, leaf) {
          uint64_t cpuAfter = (*measured)->cpuMicros();
          o.workerCpuMicros = cpuAfter >= cpuBefore ? cpuAfter - cpuBefore : 0;
        }
        return o;
      })
      .attach(kj::defer([scope = kj::mv(scope), pool = d.pool, pid]() mutable {
                scope->expire();
                pool->release(pid);  // under worker_reuse = "never" the worker goes now
              }),
              kj::mv(serving));
}

}  // namespace _

std::string Outcome::describe() const {
  return ok ? std::string("ok") : std::string(errorKindName(kind)) + ": " + text;
}

void recordWorker(audit::AuditRecord& record, const Outcome& outcome) {
  record.workerPid = outcome.workerPid;
  if (outcome.workerCpuMicros) record.cpuMicros = static_cast<int64_t>(*outcome.workerCpuMicros);
}

const char* errorKindName(rpc::ErrorKind kind) {
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
    case rpc::ErrorKind::BUSY: return "busy";
  }
  return "internal";
}

int64_t microsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start).count();
}

kj::Promise<Outcome> dispatchToWorker(Routing& routing, Dispatch d) {
  const policy::UnitPolicy& unit = *d.unit;
  // The deadline counts from the call's arrival (the caller is answered then, one way or
  // another), so time spent waiting for a worker to become ready counts too: a worker that never
  // answers hello must not hold its callers for ever.
  kj::Duration timeout = unit.callTimeout.count() * kj::MILLISECONDS;
  kj::TimePoint deadline = routing.timer.now() + timeout;
  std::string why = "no answer within call_timeout_ms " + std::to_string(unit.callTimeout.count());
  KJ_IF_MAYBE(notAfter, d.notAfter) {
    if (*notAfter < deadline) {
      deadline = *notAfter;
      why = d.notAfterWhy;
    }
  }
  auto pool = d.pool;
  size_t maxPayloadBytes = unit.maxPayloadBytes;
  auto noneInTime = routing.timer.atTime(deadline).then([]() {
    return kj::Maybe<WorkerProcess&>(nullptr);
  });
  auto outcome =
      pool->acquire(d.caller)
          .exclusiveJoin(kj::mv(noneInTime))
          .then([&routing, d = kj::mv(d), deadline, why = kj::mv(why)](
                    kj::Maybe<WorkerProcess&> acquired) mutable -> kj::Promise<Outcome> {
            KJ_IF_MAYBE(worker, acquired) {
              return _::callWorker(routing, d, *worker, deadline, why);
            }
            const std::string& name = d.unit->name;
            if (routing.timer.now() >= deadline) {
              return Outcome::failure(rpc::ErrorKind::TIMED_OUT,
                                      why + ": no worker of unit " + name + " became ready");
            }
            return Outcome::failure(rpc::ErrorKind::UNIT_UNAVAILABLE,
                                    "no worker of unit " + name + " is running: " +
                                        d.pool->lastFailure());
          })
          .then([maxPayloadBytes](Outcome o) {
            return _::heldToPayloadLimit(kj::mv(o), maxPayloadBytes);
          });
  // Past the drain deadline airlockd answers every call still waiting, so that each has its
  // record before the closing checkpoint (main.cc).
  auto cutOff = routing.callsCutOff.whenCut().then([]() {
    return Outcome::failure(rpc::ErrorKind::UNIT_UNAVAILABLE,
                            "airlockd is stopping: its drain deadline passed before an answer");
  });
  return outcome.exclusiveJoin(kj::mv(cutOff));
}

InFlight::InFlight(Routing& routing, std::shared_ptr<UnitPool> pool)
    : routing_(routing), pool_(kj::mv(pool)) {
  ++routing_.callsInFlight;
  ++pool_->callsInFlight;
}

InFlight::~InFlight() {
  --routing_.callsInFlight;
  --pool_->callsInFlight;
}

}  // namespace airlock::broker

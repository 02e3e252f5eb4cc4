#include "broker/supervisor/refused_bootstrap.h"

#include <kj/debug.h>
#include <spdlog/spdlog.h>

#include "broker/caps/unknown_method.h"
#include "broker/policy/decide/decide.h"

namespace airlock::broker {

capnp::Capability::Client RefusedBootstrap::createFor(capnp::rpc::twoparty::VatId::Reader) {
  const std::string reason =
      "the worker asked for the broker's bootstrap capability; the broker exports none (a "
      "worker reaches the broker only through the capabilities handed to it with a call)";
  if (!recorded_) {
    recorded_ = true;
    audit::AuditRecord record;
    record.event = UNKNOWN_METHOD_EVENT;
    record.unit = unit_;
    record.workerPid = workerPid_;
    record.args["capability"] = "bootstrap";
    record.decision = "deny";
    record.rule = std::string(policy::DEFAULT_DENY_RULE_ID);
    record.reason = reason;
    if (!audit_.append(record)) {
      spdlog::error("unit {}: cannot record worker pid {}'s refused bootstrap", unit_, workerPid_);
    }
  }
  return capnp::Capability::Client(KJ_EXCEPTION(UNIMPLEMENTED, "refused:", reason));
}

}  // namespace airlock::broker

#include "broker/caps/unknown_method.h"

#include <kj/debug.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "broker/policy/decide/decide.h"

namespace airlock::broker {

bool offersMethod(capnp::InterfaceSchema schema, uint64_t interfaceId, uint16_t methodId) {
  if (interfaceId == schema.getProto().getId()) return methodId < schema.getMethods().size();
  KJ_IF_MAYBE(found, schema.findSuperclass(interfaceId)) {
    return methodId < found->getMethods().size();
  }
  return false;
}

kj::Exception refuseUnknownMethod(audit::AuditLog& audit, audit::AuditRecord record,
                                  capnp::InterfaceSchema schema, uint64_t interfaceId,
                                  uint16_t methodId) {
  char id[24];
  snprintf(id, sizeof(id), "0x%016llx", static_cast<unsigned long long>(interfaceId));
  std::string name = schema.getUnqualifiedName().cStr();
  record.event = UNKNOWN_METHOD_EVENT;
  record.args["capability"] = name;
  record.args["interface_id"] = id;
  record.args["method_id"] = methodId;
  record.decision = "deny";
  record.rule = std::string(policy::DEFAULT_DENY_RULE_ID);
  record.reason = std::string("method @") + std::to_string(methodId) + " of interface " + id +
                  " is not a method the broker offers on " + name;
  if (!audit.append(record)) {
    spdlog::error("cannot record the refusal of an unknown method: {}", record.reason);
  }
  return KJ_EXCEPTION(UNIMPLEMENTED, kj::str("refused: ", record.reason.c_str()));
}

}  // namespace airlock::broker

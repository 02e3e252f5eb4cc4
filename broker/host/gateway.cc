#include "broker/host/gateway.h"

#include <kj/debug.h>
#include <spdlog/spdlog.h>

namespace airlock::broker {

kj::Promise<void> GatewayServer::authenticate(AuthenticateContext context) {
  audit::AuditRecord record;
  record.event = "auth";
  record.caller = "uid:" + std::to_string(peerUid_);
  record.args["peer_pid"] = peerPid_;
  record.args["method"] = "peer-credentials";
  bool admitted = routing_.admitsCaller(peerUid_);
  record.decision = admitted ? "allow" : "deny";
  record.rule = admitted ? "" : "default-deny";
  record.reason = admitted ? "uid is a caller in at least one unit's call rules"
                           : "no unit's policy names this uid as a caller";
  bool audited = routing_.audit.append(record);
  if (!audited) {
    return KJ_EXCEPTION(FAILED, "authentication refused: the broker cannot write its audit log");
  }
  if (!admitted) {
    spdlog::warn("refused connection from uid {} pid {}: {}", peerUid_, peerPid_, record.reason);
    return KJ_EXCEPTION(FAILED, "authentication refused", peerUid_, record.reason.c_str());
  }
  authenticated_ = true;
  context.getResults().setSession(kj::heap<SessionServer>(routing_, peerUid_));
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::unit(UnitContext context) {
  context.getResults().setUnit(
      kj::heap<UnitServer>(routing_, callerUid_, context.getParams().getName()));
  return kj::READY_NOW;
}

}  // namespace airlock::broker

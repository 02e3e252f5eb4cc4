#include "broker/caps/net.h"

#include <kj/debug.h>

#include "broker/caps/at_beneath.h"
#include "broker/caps/file_server.h"
#include "broker/caps/net_dialer.h"
#include "broker/caps/open_beneath.h"
#include "broker/caps/worker_requests.h"
#include "broker/policy/decide/decide_net.h"

namespace airlock::broker {

namespace _ {
namespace {

// Allowed addresses of one name dialed in turn before the request fails: enough for a name with
// IPv6 and IPv4 addresses and a dead one among them, bounded so one request cannot hold a worker
// (and the broker's connect slots) for many connect timeouts.
constexpr size_t MAX_ADDRESSES_TRIED = 4;

// One request across its asynchronous steps.
struct ConnectRequest {
  kj::Own<CallScope> scope;
  audit::AuditRecord record;
  policy::Decision decision;
  Dialed dialed;
  std::string failure;  // allowed, but the lookup or every connect failed

  // TCP only: what was asked, and the resolved addresses the policy allows, each with its
  // decision, in resolver order.
  std::string host;
  uint16_t port = 0;
  std::vector<policy::IpAddress> allowed;
  std::vector<policy::Decision> allowedDecisions;
};

// Audit, then reply: the record is written before the worker sees the socket, and a record that
// cannot be written turns the answer into a refusal (the socket is then closed unseen).
void finish(ConnectRequest& request, rpc::ConnectResult::Builder result) {
  if (request.dialed.ok()) {
    policy::Refusal full = request.scope->heldFds->refusal();
    if (full) {
      request.dialed = Dialed();  // the connection is closed unseen
      request.failure = full.why();
    }
  }
  recordDecision(request.record, request.decision);
  request.record.result = !request.decision.allowed() ? "refused"
                          : request.dialed.ok()       ? "socket passed"
                                                      : request.failure;
  bool audited = request.scope->audit.append(request.record);
  KJ_IF_MAYBE(refusal, refusalAnswer(audited, request.decision)) {
    result.setDenied(*refusal);
  } else if (!request.dialed.ok()) {
    result.setFailed(request.failure);
  } else {
    result.setSocket(
        kj::heap<FileServer>(kj::mv(request.dialed.fd), kj::addRef(*request.scope)));
  }
}

// Decides every resolved address; keeps the allowed ones to dial. With none allowed the first
// refusal decides; with no address at all the decision on the name alone stands.
void decideAddresses(ConnectRequest& request, const Resolved& resolved) {
  CallScope& scope = *request.scope;
  if (resolved.addresses.empty()) {
    if (request.decision.allowed()) {
      request.failure = resolved.error;
    } else {
      request.decision.reason += "; " + resolved.error;
    }
    return;
  }
  kj::Maybe<policy::Decision> firstRefusal;
  std::vector<std::string> all, refused;
  for (const policy::IpAddress& address : resolved.addresses) {
    // The one check by hand: the call may have ended while the name was being resolved, after
    // the membrane (request_pacer.h) let the request in.
    policy::Decision decision = scope.decideUnlessExpired([&]() {
      return policy::decideNetConnect(scope.unit, request.host, request.port, &address);
    });
    all.push_back(address.describe());
    if (decision.allowed()) {
      request.allowed.push_back(address);
      request.allowedDecisions.push_back(kj::mv(decision));
    } else {
      refused.push_back(address.describe());
      if (firstRefusal == nullptr) firstRefusal = kj::mv(decision);
    }
  }
  request.record.args["addresses"] = all;
  if (!refused.empty()) request.record.args["refused_addresses"] = refused;
  if (request.allowed.empty()) {
    KJ_IF_MAYBE(refusal, firstRefusal) { request.decision = kj::mv(*refusal); }
  }
}

// The record step before any connect: `net.connect.admitted` naming every allowed address it
// may dial (and the rule of the first). False (and the request failed, nothing dialed) if the
// log did not take it; true with nothing to dial too.
bool admitDial(ConnectRequest& request) {
  if (request.allowed.empty()) return true;
  audit::AuditRecord admitted = request.record;
  std::vector<std::string> dialable;
  for (size_t i = 0; i < request.allowed.size() && i < MAX_ADDRESSES_TRIED; ++i) {
    dialable.push_back(request.allowed[i].describe());
  }
  admitted.args["allowed_addresses"] = dialable;
  if (recordAdmitted(request.scope->audit, admitted, request.allowedDecisions.front())) {
    return true;
  }
  request.decision = request.allowedDecisions.front();
  request.allowed.clear();
  request.failure = NOT_RECORDED;
  return false;
}

// Connects to the allowed addresses from `index` on until one answers; the record then names
// the address used (or the last one tried) and the rule that allowed it.
kj::Promise<kj::Own<ConnectRequest>> dialFrom(kj::Own<ConnectRequest> request, size_t index) {
  if (index >= request->allowed.size() || index >= MAX_ADDRESSES_TRIED) return kj::mv(request);
  auto& r = *request;
  r.decision = r.allowedDecisions[index];
  r.record.args["address"] = r.allowed[index].describe();
  return r.scope->net.connect(r.allowed[index], r.port)
      .then([request = kj::mv(request), index](Dialed dialed) mutable
            -> kj::Promise<kj::Own<ConnectRequest>> {
        if (dialed.ok()) {
          request->dialed = kj::mv(dialed);
          return kj::mv(request);
        }
        std::string tried = request->allowed[index].describe() + " port " +
                            std::to_string(request->port) + ": " + dialed.error;
        request->failure += (request->failure.empty() ? "" : "; ") + tried;
        return dialFrom(kj::mv(request), index + 1);
      });
}

}  // namespace
}  // namespace _

kj::Promise<void> NetServer::connect(ConnectContext context) {
  // Receive: one byte past the limit is enough for decide to refuse an over-long host.
  auto params = context.getParams();
  auto request = kj::heap<_::ConnectRequest>();
  auto hostText = params.getHost();
  request->host.assign(hostText.begin(), kj::min(hostText.size(), policy::MAX_HOST_NAME_BYTES + 1));
  request->port = params.getPort();
  request->scope = kj::addRef(*scope_);
  request->record = scope_->record(std::string(requests::NET_CONNECT.event));
  request->record.args["host"] = request->host;
  request->record.args["port"] = request->port;

  // Decide on the name; resolve only if an allow rule could then match.
  const policy::UnitPolicy& unit = scope_->unit;
  request->decision = policy::decideNetConnect(unit, request->host, request->port, nullptr);
  if (!policy::netConnectNeedsAddress(unit, request->host, request->port)) {
    _::finish(*request, context.getResults().initResult());
    return kj::READY_NOW;
  }
  // Resolve the host as it was decided: a literal in any spelling as its address, a name
  // lowercased (decide refused anything else, so netConnectNeedsAddress was false for it).
  std::string refused;
  std::optional<policy::RequestHost> canonical =
      policy::canonicalRequestHost(request->host, refused);
  KJ_ASSERT(canonical.has_value(), "net.connect resolving a host decide refused", refused);
  std::string host = canonical->literal ? canonical->literal->describe() : canonical->name;
  return scope_->net.resolve(kj::mv(host))
      .then([request = kj::mv(request)](Resolved resolved) mutable
            -> kj::Promise<kj::Own<_::ConnectRequest>> {
        // Decide each address, record, then act: connect to an allowed one.
        _::decideAddresses(*request, resolved);
        if (!_::admitDial(*request)) return kj::mv(request);
        return _::dialFrom(kj::mv(request), 0);
      })
      .then([context](kj::Own<_::ConnectRequest> request) mutable {
        _::finish(*request, context.getResults().initResult());
      });
}

kj::Promise<void> NetServer::connectUnix(ConnectUnixContext context) {
  // Receive.
  auto pathText = context.getParams().getPath();
  std::string path(pathText.begin(), kj::min(pathText.size(), policy::MAX_PATH_BYTES + 1));
  auto request = kj::heap<_::ConnectRequest>();
  request->scope = kj::addRef(*scope_);
  request->record = scope_->record(std::string(requests::NET_CONNECT_UNIX.event));
  request->record.args["unix_path"] = path;

  // Decide.
  request->decision = policy::decideNetConnectUnix(scope_->unit, path);
  if (!request->decision.allowed()) {
    _::finish(*request, context.getResults().initResult());
    return kj::READY_NOW;
  }

  // Act: name the socket by a descriptor opened beneath the rule's root, never by its path.
  const std::string& root = request->decision.rule->net().unixPath.root();
  std::string why;
  int rootFd = scope_->roots.find(root, why);
  OpenBeneathResult opened;
  if (rootFd < 0) {
    opened.message = why;
  } else {
    opened = openSocketBeneath(rootFd, relativeTo(root, path));
    if (opened.escapeRefused()) {
      // The rule matched the path text, but the kernel found the path leaves the grant.
      request->decision.verdict = policy::Verdict::DENY;
      request->decision.reason =
          "rule matched, but resolving beneath " + root + " refused it: " + opened.message;
    }
  }
  if (!opened.ok()) {
    request->failure = opened.message;
    _::finish(*request, context.getResults().initResult());
    return kj::READY_NOW;
  }
  // Record, then act.
  if (!recordAdmitted(scope_->audit, request->record, request->decision)) {
    request->failure = NOT_RECORDED;
    _::finish(*request, context.getResults().initResult());
    return kj::READY_NOW;
  }
  std::string named = "/proc/self/fd/" + std::to_string(opened.fd.get());
  return scope_->net.connectUnix(named).then(
      [context, request = kj::mv(request), socket = kj::mv(opened.fd)](Dialed dialed) mutable {
        request->failure = dialed.error;
        request->dialed = kj::mv(dialed);
        _::finish(*request, context.getResults().initResult());
      });
}

}  // namespace airlock::broker

#pragma once
// What every fs.* handler does the same way (fs.h): copy a worker's path out of the request,
// bounded; and the audit-then-answer step that ends each request with one record. Broker-side,
// event-loop thread.

#include <capnp/blob.h>
#include <kj/common.h>

#include <string>

#include "broker/caps/call_scope.h"

namespace airlock::broker {

// Longest path a worker may send; longer requests are refused before any policy work.
inline constexpr size_t MAX_REQUEST_PATH = 4096;

// The worker's text, cut one byte past MAX_REQUEST_PATH so validateRequestPath still refuses it.
std::string requestPath(capnp::Text::Reader text);

// Audits the request (decision, rule, reason; result "refused", `failure`, or `doneResult`), then
// answers a refusal or a failure on `result` (any of worker.capnp's result unions: they all have
// setDenied and setFailed). True if it answered; false if the request succeeded and the caller
// fills in the success. A failed append answers a refusal, as refusalAnswer says.
template <typename ResultBuilder>
bool auditAndAnswerRefusal(CallScope& scope, audit::AuditRecord& record,
                           const policy::Decision& decision, const std::string& failure,
                           const std::string& doneResult, ResultBuilder result) {
  recordDecision(record, decision);
  record.result = !decision.allowed() ? "refused" : failure.empty() ? doneResult : failure;
  bool audited = scope.audit.append(record);
  KJ_IF_MAYBE(refusal, refusalAnswer(audited, decision)) {
    result.setDenied(*refusal);
    return true;
  }
  if (!failure.empty()) {
    result.setFailed(failure);
    return true;
  }
  return false;
}

// Turns an allowed decision into a deny by the same rule when the kernel refused to resolve the
// path beneath the rule's root (a symlink or an escape): the rule matched the text, not the file.
void denyEscape(policy::Decision& decision, const std::string& message);

// Turns an allowed fs.rename into a deny by the same rule when the move would leave a symlink
// pointing out of the rule's root, or could not be checked within its bound (moved_links.h):
// the rule matched both paths, not what moving the tree between them would do.
void denyMove(policy::Decision& decision, const std::string& why);

}  // namespace airlock::broker

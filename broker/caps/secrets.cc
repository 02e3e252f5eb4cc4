#include "broker/caps/secrets.h"

#include "broker/caps/file_server.h"
#include "broker/caps/sealed_memfd.h"
#include "broker/caps/worker_requests.h"
#include "broker/policy/decide/decide.h"

namespace airlock::broker {

kj::Promise<void> SecretsServer::get(GetContext context) {
  // Receive: one byte past the limit is enough for decide to refuse an over-long name.
  auto nameText = context.getParams().getName();
  std::string name(nameText.begin(), kj::min(nameText.size(), policy::MAX_SECRET_NAME_BYTES + 1));
  auto record = scope_->record(std::string(requests::SECRETS_GET.event));
  record.args["name"] = name;

  // Decide.
  policy::Decision decision = policy::decideSecretsGet(scope_->unit, name);

  // Act. `read` owns the only user-space copy of the value in the broker and zeroes it when this
  // function returns; the worker gets a sealed memfd, so no message buffer ever holds the value.
  SecretRead read;
  kj::Maybe<kj::AutoCloseFd> sealed;
  std::string failure;
  if (decision.allowed()) failure = scope_->heldFds->refusal().why();
  if (decision.allowed() && failure.empty()) {
    read = scope_->secrets.read(name);
    failure = read.error;
    if (read.ok()) sealed = sealedMemfd(read.value.bytes(), failure);
  }

  // Audit, before anything reaches the worker: the name and a keyed hash, never the value.
  recordDecision(record, decision);
  if (!decision.allowed()) {
    record.result = "refused";
  } else if (sealed == nullptr) {
    record.result = failure;
  } else {
    record.result = "value passed";
    record.args["value_hash"] = scope_->secretHasher.hash(read.value.bytes());
  }
  bool audited = scope_->audit.append(record);

  // Reply.
  auto result = context.getResults().initResult();
  KJ_IF_MAYBE(refusal, refusalAnswer(audited, decision)) {
    result.setDenied(*refusal);
  } else KJ_IF_MAYBE(fd, sealed) {
    result.setFile(kj::heap<FileServer>(kj::mv(*fd), kj::addRef(*scope_)));
  } else {
    result.setFailed(failure);
  }
  return kj::READY_NOW;
}

}  // namespace airlock::broker

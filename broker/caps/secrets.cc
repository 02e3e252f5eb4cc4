#include "broker/caps/secrets.h"

#include "broker/policy/decide.h"

namespace airlock::broker {

kj::Promise<void> SecretsServer::get(GetContext context) {
  // Receive: one byte past the limit is enough for decide to refuse an over-long name.
  auto nameText = context.getParams().getName();
  std::string name(nameText.begin(), kj::min(nameText.size(), policy::MAX_SECRET_NAME_BYTES + 1));
  auto record = scope_->record("secrets.get");
  record.args["name"] = name;

  // Decide.
  policy::Decision decision = scope_->decideUnlessExpired(
      [&]() { return policy::decideSecretsGet(scope_->unit, name); });

  // Act. `read` owns the only broker copy of the value and zeroes it when this function returns.
  SecretRead read;
  if (decision.allowed()) read = scope_->secrets.read(name);

  // Audit, before anything reaches the worker: the name and a keyed hash, never the value.
  recordDecision(record, decision);
  if (!decision.allowed()) {
    record.result = "refused";
  } else if (!read.ok()) {
    record.result = read.error;
  } else {
    record.result = "value passed";
    record.args["value_hash"] = scope_->secretHasher.hash(read.value.bytes());
  }
  bool audited = scope_->audit.append(record);

  // Reply.
  auto result = context.getResults().initResult();
  KJ_IF_MAYBE(refusal, refusalAnswer(audited, decision)) {
    result.setDenied(*refusal);
  } else if (!read.ok()) {
    result.setFailed(read.error);
  } else {
    // TODO(security): this copies the value into the answer's message buffer, which Cap'n Proto
    // frees after sending without zeroing it; only the broker's own copy (`read`) is wiped.
    result.setValue(read.value.bytes());
  }
  return kj::READY_NOW;
}

}  // namespace airlock::broker

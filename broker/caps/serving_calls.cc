#include "broker/caps/serving_calls.h"

#include <algorithm>

namespace airlock::broker {

ServingCalls::Serving::~Serving() {
  if (calls_.get() != nullptr) calls_->end(number_);
}

ServingCalls::Serving ServingCalls::begin(std::string callId, std::string caller) {
  uint64_t number = nextNumber_++;
  calls_.push_back(Call{number, kj::mv(callId), kj::mv(caller)});
  return Serving(kj::addRef(*this), number);
}

void ServingCalls::end(uint64_t number) {
  if (frozen_) return;
  calls_.erase(std::remove_if(calls_.begin(), calls_.end(),
                              [number](const Call& call) { return call.number == number; }),
               calls_.end());
}

void ServingCalls::tag(audit::AuditRecord& record) const {
  if (!record.callId.empty() || calls_.empty()) return;
  if (calls_.size() == 1) {
    record.callId = calls_.front().callId;
    if (record.caller.empty()) record.caller = calls_.front().caller;
    return;
  }
  auto ids = nlohmann::ordered_json::array();
  for (auto& call : calls_) ids.push_back(call.callId);
  record.args["serving_call_ids"] = ids;
}

}  // namespace airlock::broker

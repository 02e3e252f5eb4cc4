#include "audit/call_story.h"

#include <vector>

#include "audit/record_filter.h"

namespace airlock::audit {

void CallStory::advanceRun(const LoggedRecord& record) {
  if (record.event == "broker.start") ++run_;
}

void CallStory::learn(const LoggedRecord& record) {
  advanceRun(record);
  auto parent = record.args().find("parent_call_id");
  if (parent == record.args().end() || !parent->is_string() || record.callId.empty()) return;
  nested_[run_][parent->get<std::string>()].insert(record.callId);
}

const std::set<std::string>& CallStory::callsOfRun() {
  auto found = storyCalls_.find(run_);
  if (found != storyCalls_.end()) return found->second;
  std::set<std::string>& calls = storyCalls_[run_];
  std::vector<std::string> toVisit{callId_};
  auto& nested = nested_[run_];
  while (!toVisit.empty()) {
    std::string call = toVisit.back();
    toVisit.pop_back();
    if (!calls.insert(call).second) continue;  // a cycle is refused by airlockd, but not looped
    for (auto& child : nested[call]) toVisit.push_back(child);
  }
  return calls;
}

bool CallStory::tells(const LoggedRecord& record) {
  if (!telling_) {
    telling_ = true;
    run_ = 0;
  }
  advanceRun(record);
  for (auto& call : callsOfRun()) {
    if (belongsToCall(record, call)) return true;
  }
  return false;
}

}  // namespace airlock::audit

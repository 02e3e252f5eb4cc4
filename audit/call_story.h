#pragma once
// One call's whole story, for `airlock audit query --call-id ID --story`: every record of the
// call (its admission, the worker's requests and brokered syscalls, a refused syscall, the exit
// of the worker that served it, its answer) and of the calls nested in it through `invoke`, at
// any depth, in log order.
//
// Call ids are unique within one broker run only ("c-1" starts again after a restart), so the
// story is told per run, a run beginning at each `broker.start`: a log holding several runs that
// each had a call "c-5" tells each run's apart.
//
// Two passes over the same records: learn() each (to find the nested calls, whose `invoke`
// record naming their parent comes after their own records), then tells() each, in order.
// One thread at a time.

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "audit/record_reader.h"

namespace airlock::audit {

class CallStory {
 public:
  explicit CallStory(std::string callId) : callId_(std::move(callId)) {}

  void learn(const LoggedRecord& record);  // first pass, every record in order

  // Second pass, every record in order (the same ones): whether it is part of the story.
  bool tells(const LoggedRecord& record);
  // The broker run the last record given to tells() belongs to: 0 before any broker.start,
  // then 1, 2, ...
  uint64_t run() const { return run_; }

 private:
  void advanceRun(const LoggedRecord& record);
  const std::set<std::string>& callsOfRun();

  std::string callId_;
  uint64_t run_ = 0;
  bool telling_ = false;
  // Per run: the calls nested in each call (an invoke's call_id, by its args.parent_call_id).
  std::map<uint64_t, std::map<std::string, std::set<std::string>>> nested_;
  std::map<uint64_t, std::set<std::string>> storyCalls_;  // per run: callId_ and its nested calls
};

}  // namespace airlock::audit

#pragma once
// Test helper: one unit's policy file, `head` followed by the rules a test gives, loaded as
// airlockd loads it (the worker check skipped); errors with the directory shown as "D".

#include <string>
#include <vector>

#include "broker/policy/load/policy_loader.h"
#include "tests/unit/policy/temp_policy_dir.h"

namespace airlock::policy::testing {

class OneFilePolicy {
 public:
  OneFilePolicy(std::string fileName, std::string head)
      : fileName_(std::move(fileName)), head_(std::move(head)) {}

  LoadResult load(const std::string& rules) const {
    LoadOptions options;
    options.workerCheck = LoadOptions::WorkerCheck::SKIP;
    return loadPolicyFile(dir_.write(fileName_, head_ + rules), options);
  }

  const std::string& dir() const { return dir_.path(); }

  std::vector<std::string> errors(const std::string& rules) const {
    std::vector<std::string> out;
    for (auto& e : load(rules).errors) {
      std::string text = e.describe();
      text.replace(0, dir_.path().size(), "D");
      out.push_back(text);
    }
    return out;
  }

 private:
  TempPolicyDir dir_;
  std::string fileName_, head_;
};

}  // namespace airlock::policy::testing

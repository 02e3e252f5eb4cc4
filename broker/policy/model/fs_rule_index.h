#pragma once
// An index of a unit's fs.* rules (fs.open, fs.stat, ...: isFsOperation) by the literal
// directory prefix of their patterns (their root), so a decision looks only at rules whose root
// is an ancestor of, or equal to, the requested path — a handful — instead of scanning every
// rule.
//
// Sound because a pattern can only match paths beneath its root: the root is the pattern's
// wildcard-free leading directories (PathPattern::root()). Built once when a policy is loaded;
// immutable and shareable afterwards.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/policy/model/policy.h"

namespace airlock::policy {

class FsRuleIndex {
 public:
  static std::shared_ptr<const FsRuleIndex> build(const std::vector<Rule>& rules);

  // Indices into the rules vector the index was built from, in ascending order (the order a full
  // scan would visit them, so ties resolve identically), of every fs.* rule whose root is an
  // ancestor of or equal to `validatedPath`. `out` is cleared first. Rules of every fs.*
  // operation are candidates: the caller keeps those of the operation it decides.
  void candidates(std::string_view validatedPath, std::vector<uint32_t>& out) const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Node {
    std::vector<uint32_t> rules;  // rules whose root ends exactly here
    std::unordered_map<std::string, std::unique_ptr<Node>, StringHash, std::equal_to<>> children;
  };
  Node root_;
};

}  // namespace airlock::policy

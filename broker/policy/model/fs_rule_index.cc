#include "broker/policy/model/fs_rule_index.h"

#include <algorithm>

namespace airlock::policy {

namespace {

// Calls `visit` with each segment of an absolute path ("/a/b" -> "a", "b").
template <typename Visit>
void forEachSegment(std::string_view path, Visit&& visit) {
  size_t start = 1;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (!visit(path.substr(start, end - start))) return;
    start = end + 1;
  }
}

}  // namespace

std::shared_ptr<const FsRuleIndex> FsRuleIndex::build(const std::vector<Rule>& rules) {
  auto index = std::make_shared<FsRuleIndex>();
  for (uint32_t i = 0; i < rules.size(); ++i) {
    if (!isFsOperation(rules[i].operation)) continue;
    Node* node = &index->root_;
    forEachSegment(rules[i].fs().path.root(), [&node](std::string_view segment) {
      auto& child = node->children[std::string(segment)];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
      return true;
    });
    node->rules.push_back(i);
  }
  return index;
}

void FsRuleIndex::candidates(std::string_view validatedPath, std::vector<uint32_t>& out) const {
  out.clear();
  const Node* node = &root_;
  out.insert(out.end(), node->rules.begin(), node->rules.end());
  forEachSegment(validatedPath, [&](std::string_view segment) {
    auto it = node->children.find(segment);
    if (it == node->children.end()) return false;
    node = it->second.get();
    out.insert(out.end(), node->rules.begin(), node->rules.end());
    return true;
  });
  std::sort(out.begin(), out.end());
}

}  // namespace airlock::policy

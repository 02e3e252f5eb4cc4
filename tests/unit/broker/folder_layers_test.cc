// The broker's folders are layers: no folder includes another that includes it back, directly
// or around a longer circle. A newcomer then reads a part knowing that what it includes does not
// depend on it, and a request's path runs one way: server -> host -> calls -> state -> caps ->
// policy (docs/architecture.md).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

using FolderGraph = std::map<std::string, std::set<std::string>>;

// Every folder under broker/ (by its path from the source root, e.g. "broker/caps") and the
// other broker folders its .cc and .h files include.
FolderGraph brokerIncludes(const fs::path& sourceRoot) {
  FolderGraph graph;
  const std::string prefix = "#include \"broker/";
  for (const auto& entry : fs::recursive_directory_iterator(sourceRoot / "broker")) {
    const fs::path& file = entry.path();
    if (!entry.is_regular_file() || (file.extension() != ".cc" && file.extension() != ".h")) {
      continue;
    }
    std::string from = fs::relative(file.parent_path(), sourceRoot).string();
    graph[from];
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(prefix, 0) != 0) continue;
      std::string included = line.substr(prefix.size() - std::string("broker/").size());
      included = included.substr(0, included.find('"'));
      std::string to = fs::path(included).parent_path().string();
      if (to != from && to != "broker") graph[from].insert(to);
    }
  }
  return graph;
}

// A circle of folders through `folder` if there is one ("a -> b -> a"), else empty.
std::string findCircle(const FolderGraph& graph, const std::string& folder,
                       std::vector<std::string>& path, std::set<std::string>& done) {
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != folder) continue;
    std::string circle;
    for (size_t j = i; j < path.size(); ++j) circle += path[j] + " -> ";
    return circle + folder;
  }
  if (done.count(folder)) return {};
  path.push_back(folder);
  auto edges = graph.find(folder);
  if (edges != graph.end()) {
    for (const std::string& next : edges->second) {
      std::string circle = findCircle(graph, next, path, done);
      if (!circle.empty()) return circle;
    }
  }
  path.pop_back();
  done.insert(folder);
  return {};
}

TEST(FolderLayersTest, NoBrokerFolderIncludesOneThatIncludesItBack) {
  FolderGraph graph = brokerIncludes(AIRLOCK_SOURCE_DIR);
  ASSERT_GE(graph.size(), 7u) << "broker/ not found under " << AIRLOCK_SOURCE_DIR;
  std::set<std::string> done;
  for (const auto& [folder, _] : graph) {
    std::vector<std::string> path;
    std::string circle = findCircle(graph, folder, path, done);
    EXPECT_EQ(circle, "") << "broker folders include each other in a circle: " << circle;
  }
}

// The check itself finds a circle when there is one.
TEST(FolderLayersTest, FindsACircleOfThree) {
  FolderGraph graph = {{"a", {"b"}}, {"b", {"c"}}, {"c", {"a"}}, {"d", {"a"}}};
  std::vector<std::string> path;
  std::set<std::string> done;
  EXPECT_EQ(findCircle(graph, "d", path, done), "a -> b -> c -> a");
}

}  // namespace

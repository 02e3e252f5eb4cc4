#include "broker/policy/model/dangerous.h"

#include <algorithm>
#include <vector>

namespace airlock::policy {

std::string_view systemDirectoryOf(std::string_view root) {
  for (std::string_view dir : SYSTEM_DIRECTORIES) {
    if (root == dir || (root.starts_with(dir) && root.size() > dir.size() &&
                        root[dir.size()] == '/')) {
      return dir;
    }
  }
  return {};
}

namespace _ {
namespace {

bool writes(OpenModes modes) {
  return modes.has(OpenMode::WRITE) || modes.has(OpenMode::CREATE) ||
         modes.has(OpenMode::TRUNCATE) || modes.has(OpenMode::APPEND);
}

// Whether `ports` together cover 1..65535.
bool coversEveryPort(std::vector<PortRange> ports) {
  std::sort(ports.begin(), ports.end(),
            [](const PortRange& a, const PortRange& b) { return a.low < b.low; });
  uint32_t next = 1;  // the lowest port not yet covered
  for (const PortRange& range : ports) {
    if (range.low > next) return false;
    next = std::max<uint32_t>(next, range.high + 1u);
  }
  return next > 65535;
}

std::string dangerousNetConnect(const Rule& rule) {
  const NetKeys& net = rule.net();
  if (net.isUnixSocketRule()) {
    if (net.unixPath.matchesEverything()) {
      return "grants every Unix socket (unix_path \"" + net.unixPath.text() + "\")";
    }
    // System daemons listen under /run and friends; some are root by another name
    // (/run/docker.sock, /run/systemd/private).
    std::string_view system = systemDirectoryOf(net.unixPath.root());
    if (!system.empty()) {
      return "grants Unix sockets under " + std::string(system) +
             ", where system daemons listen (unix_path \"" + net.unixPath.text() + "\")";
    }
    return {};
  }
  for (const IpBlock& block : net.hostBlocks) {
    if (block.isEverything()) {
      return "grants connections to every " +
             std::string(block.base.family == AF_INET ? "IPv4" : "IPv6") + " address (host \"" +
             block.describe() + "\")";
    }
  }
  if (coversEveryPort(net.ports)) return "grants every port (1-65535)";
  return {};
}

}  // namespace
}  // namespace _

std::string dangerousAllowance(const Rule& rule) {
  if (rule.effect != Effect::ALLOW) return {};
  const OperationRow& row = operationRow(rule.operation);
  if (row.matching == Matching::NET_TARGET) return _::dangerousNetConnect(rule);
  // A grant rule lets callers hand out what its path and modes cover: as dangerous as an fs.open
  // rule of the same path and modes would be.
  const PathPattern* path = rule.pathPattern();
  if (path == nullptr) return {};
  if (path->matchesEverything()) {
    return "grants the whole file system (path \"" + path->text() + "\")";
  }
  // fs.mkdir, fs.unlink, fs.rename and fs.symlink change the tree: write access as a write mode is.
  bool writes = row.fsWrite == FsWrite::BY_MODES ? _::writes(rule.openModes())
                                                 : row.fsWrite == FsWrite::ALWAYS;
  if (!writes) return {};
  const std::string& root = path->root();
  if (root == "/") {
    return "grants write access at the file system root (path \"" + path->text() + "\")";
  }
  std::string_view system = systemDirectoryOf(root);
  if (!system.empty()) {
    return "grants write access under " + std::string(system) +
           ", a system directory, not a data directory";
  }
  return {};
}

}  // namespace airlock::policy

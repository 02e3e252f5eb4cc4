#include "broker/policy/suggest/suggest.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "broker/policy/model/dangerous.h"
#include "sandbox/syscall_sets.h"

namespace airlock::policy {

void EvidenceSpan::add(const Evidence& e) {
  ++count;
  firstSeq = std::min(firstSeq, e.seq);
  lastSeq = std::max(lastSeq, e.seq);
  if (e.alreadyAllowed) ++alreadyAllowed;
}

void EvidenceSpan::merge(const EvidenceSpan& other) {
  count += other.count;
  firstSeq = std::min(firstSeq, other.firstSeq);
  lastSeq = std::max(lastSeq, other.lastSeq);
  alreadyAllowed += other.alreadyAllowed;
}

namespace _ {
namespace {

std::string parentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// Whether every path `dir/...` lies within one of the learn patterns: one "R/**" with `dir` at or
// beneath R. No bounds given: anything is within.
bool globWithin(const std::string& dir, const std::vector<PathPattern>& learnPaths) {
  if (learnPaths.empty()) return true;
  for (const PathPattern& bound : learnPaths) {
    const std::string& root = bound.root();
    bool everythingBeneath = bound.text() == (root == "/" ? "/**" : root + "/**");
    if (everythingBeneath && (dir == root || dir.starts_with(root + "/"))) return true;
  }
  return false;
}

bool withinBounds(const std::string& path, const std::vector<PathPattern>& learnPaths) {
  if (learnPaths.empty()) return true;
  return std::any_of(learnPaths.begin(), learnPaths.end(),
                     [&](const PathPattern& bound) { return bound.matches(path); });
}

// Whether a rule can name `path` exactly: a valid request path with no character a pattern
// reads as a wildcard (a file really named "*" could only be granted by a glob).
bool writableAsExactPath(const std::string& path) {
  if (validateRequestPath(path).refuses() || path.find('*') != std::string::npos) return false;
  std::string error;
  std::optional<PathPattern> pattern = PathPattern::parse(path, error);
  return pattern && pattern->isExact() && pattern->matches(path);
}

// The topmost proper ancestor of `path` that the run made, or "".
std::string topmostMadeAncestor(const std::string& path, const std::set<std::string>& made) {
  std::string found;
  for (std::string dir = parentOf(path); dir != "/"; dir = parentOf(dir)) {
    if (made.count(dir)) found = dir;
  }
  return found;
}

// fs evidence grouped for one rule each: operation, modes, then the path or pattern text.
using FsKey = std::tuple<uint8_t, uint8_t>;
struct FsGroup {
  std::map<std::string, EvidenceSpan> exact;                           // path -> its evidence
  std::map<std::string, std::pair<EvidenceSpan, std::string>> globs;  // pattern -> evidence, why
};

void collapseSiblings(FsGroup& group, const SuggestOptions& options) {
  std::map<std::string, std::vector<std::string>> byDir;
  for (auto& [path, span] : group.exact) byDir[parentOf(path)].push_back(path);
  for (auto& [dir, paths] : byDir) {
    if (paths.size() <= options.collapse || !globWithin(dir, options.learnPaths)) continue;
    std::string glob = (dir == "/" ? "" : dir) + "/*";
    auto& [span, why] = group.globs[glob];
    for (auto& path : paths) {
      span.merge(group.exact[path]);
      group.exact.erase(path);
    }
    why = std::to_string(paths.size()) + " paths of " + dir + " were used (more than " +
          std::to_string(options.collapse) + ", --collapse)";
  }
}

// Exact paths (and narrower globs) a glob of the same group already covers are folded into it.
void foldCovered(FsGroup& group) {
  for (auto& [text, glob] : group.globs) {
    std::string error;
    std::optional<PathPattern> pattern = PathPattern::parse(text, error);
    if (!pattern) continue;
    for (auto it = group.exact.begin(); it != group.exact.end();) {
      if (pattern->matches(it->first)) {
        glob.first.merge(it->second);
        it = group.exact.erase(it);
      } else {
        ++it;
      }
    }
  }
}

SuggestedRule fsRule(Operation op, OpenModes modes, const std::string& text, EvidenceSpan span,
                     std::string why) {
  SuggestedRule out;
  out.rule.effect = Effect::ALLOW;
  setOperation(out.rule, op);
  std::string error;
  FsKeys& fs = out.rule.fs();
  fs.path = PathPattern::parse(text, error).value_or(PathPattern{});
  fs.modes = modes;
  out.evidence = span;
  out.why = std::move(why);
  return out;
}

void suggestFs(const std::vector<Evidence>& evidence, const SuggestOptions& options,
               Suggestion& out) {
  std::set<std::string> made;
  for (const Evidence& e : evidence) {
    if (e.syscall.empty() && e.operation == Operation::FS_MKDIR) made.insert(e.path);
  }
  std::map<FsKey, FsGroup> groups;
  for (const Evidence& e : evidence) {
    if (!e.syscall.empty() || !isFsOperation(e.operation) || !writableAsExactPath(e.path)) {
      continue;
    }
    if (!withinBounds(e.path, options.learnPaths)) {
      ++out.outsideLearnPaths;
      continue;
    }
    FsGroup& group = groups[FsKey{static_cast<uint8_t>(e.operation), e.modes.bits}];
    std::string madeDir = topmostMadeAncestor(e.path, made);
    std::string base = madeDir.empty() ? "" : parentOf(madeDir);
    if (!madeDir.empty() && globWithin(base, options.learnPaths)) {
      auto& [span, why] = group.globs[(base == "/" ? "" : base) + "/**"];
      span.add(e);
      why = "beneath " + madeDir + ", a directory the run made: a rule's root must exist "
            "when the policy loads";
    } else {
      group.exact[e.path].add(e);
    }
  }
  for (auto& [key, group] : groups) {
    collapseSiblings(group, options);
    foldCovered(group);
    Operation op = static_cast<Operation>(std::get<0>(key));
    OpenModes modes{std::get<1>(key)};
    for (auto& [text, glob] : group.globs) {
      out.rules.push_back(fsRule(op, modes, text, glob.first, glob.second));
    }
    for (auto& [path, span] : group.exact) out.rules.push_back(fsRule(op, modes, path, span, ""));
  }
}

void suggestNet(const std::vector<Evidence>& evidence, Suggestion& out) {
  std::map<std::string, std::pair<std::set<uint16_t>, EvidenceSpan>> byHost;
  std::map<std::string, EvidenceSpan> byUnixPath;
  for (const Evidence& e : evidence) {
    if (!e.syscall.empty() || e.operation != Operation::NET_CONNECT) continue;
    if (!e.unixPath.empty()) {
      byUnixPath[e.unixPath].add(e);
    } else if (!e.host.empty() && e.port != 0) {
      std::string error;
      std::optional<RequestHost> canonical = canonicalRequestHost(e.host, error);
      if (!canonical) continue;
      auto& [ports, span] =
          byHost[canonical->literal ? canonical->literal->describe() : canonical->name];
      ports.insert(e.port);
      span.add(e);
    }
  }
  for (auto& [host, used] : byHost) {
    SuggestedRule rule;
    rule.rule.effect = Effect::ALLOW;
    setOperation(rule.rule, Operation::NET_CONNECT);
    std::string error;
    std::optional<RequestHost> canonical = canonicalRequestHost(host, error);
    if (canonical && canonical->literal) {
      const IpAddress& address = *canonical->literal;
      if (!neverConnectedReason(address).empty()) continue;  // no rule can allow it
      NetKeys& net = rule.rule.net();
      net.hostBlocks.push_back(IpBlock{address, static_cast<uint16_t>(address.bits())});
      // An IPv6 address carrying an IPv4 one is allowed only with that one (decide_net.h).
      if (std::optional<IpAddress> inner = address.embeddedIpv4()) {
        if (!neverConnectedReason(*inner).empty()) continue;
        net.hostBlocks.push_back(IpBlock{*inner, static_cast<uint16_t>(inner->bits())});
      }
    } else if (canonical && !validateRuleHostName(canonical->name).refuses()) {
      rule.rule.net().hostNames.push_back(canonical->name);
    } else {
      continue;  // not a host the broker would have decided: no evidence of anything
    }
    for (uint16_t port : used.first) rule.rule.net().ports.push_back(PortRange{port, port});
    rule.evidence = used.second;
    out.rules.push_back(std::move(rule));
  }
  for (auto& [path, span] : byUnixPath) {
    if (!writableAsExactPath(path)) continue;  // no rule names it exactly: no evidence to cite
    SuggestedRule rule;
    rule.rule.effect = Effect::ALLOW;
    setOperation(rule.rule, Operation::NET_CONNECT);
    std::string error;
    rule.rule.net().unixPath = PathPattern::parse(path, error).value_or(PathPattern{});
    rule.evidence = span;
    out.rules.push_back(std::move(rule));
  }
}

// The [sandbox] syscalls entry that allows `name` most narrowly; "" if none may.
std::pair<std::string, std::string> syscallEntryFor(const std::string& name) {
  for (auto& forbidden : sandbox::forbiddenSyscalls()) {
    if (name == forbidden.name) return {};
  }
  const sandbox::SyscallGroup* best = nullptr;
  for (const sandbox::SyscallGroup& group : sandbox::syscallGroups()) {
    if (sandbox::isDefaultGroup(group.name)) continue;
    bool lists = std::any_of(group.syscalls.begin(), group.syscalls.end(),
                             [&](const sandbox::SyscallEntry& e) { return name == e.name; });
    if (!lists) continue;
    auto rank = [](const sandbox::SyscallGroup& g) {
      return std::make_tuple(g.danger != nullptr, g.syscalls.size(), std::string_view(g.name));
    };
    if (best == nullptr || rank(group) < rank(*best)) best = &group;
  }
  if (best != nullptr) return {best->name, best->danger != nullptr ? best->danger : ""};
  if (sandbox::refusalOfSyscallName(name.c_str()) == nullptr) return {name, ""};
  return {};
}

void suggestSyscalls(const std::vector<Evidence>& evidence, Suggestion& out) {
  std::map<std::string, SuggestedSyscalls> byEntry;
  for (const Evidence& e : evidence) {
    if (e.syscall.empty()) continue;
    auto [entry, danger] = syscallEntryFor(e.syscall);
    if (entry.empty()) continue;
    SuggestedSyscalls& suggested = byEntry[entry];
    suggested.entry = entry;
    suggested.danger = danger;
    if (std::find(suggested.seen.begin(), suggested.seen.end(), e.syscall) ==
        suggested.seen.end()) {
      suggested.seen.push_back(e.syscall);
      std::sort(suggested.seen.begin(), suggested.seen.end());
    }
    suggested.evidence.add(e);
  }
  for (auto& [entry, suggested] : byEntry) out.syscalls.push_back(std::move(suggested));
}

// "fs-open-1", "net-connect-2": the operation's name and a number per operation, in output order.
void nameRules(Suggestion& out) {
  std::map<Operation, int> numbers;
  for (SuggestedRule& suggested : out.rules) {
    std::string name = operationName(suggested.rule.operation);
    std::replace(name.begin(), name.end(), '.', '-');
    suggested.rule.id = name + "-" + std::to_string(++numbers[suggested.rule.operation]);
    suggested.danger = dangerousAllowance(suggested.rule);
  }
}

}  // namespace
}  // namespace _

Suggestion suggestRules(std::vector<Evidence> evidence, const SuggestOptions& options) {
  Suggestion out;
  _::suggestFs(evidence, options, out);
  _::suggestNet(evidence, out);
  _::suggestSyscalls(evidence, out);
  _::nameRules(out);
  return out;
}

bool suggestionCanName(const std::string& path) { return _::writableAsExactPath(path); }

}  // namespace airlock::policy

// libFuzzer target: the input is one policy file. Every unit that loads is put questions
// (fs.open, call by clients and by units, secrets.get, invoke) and each answer is checked three
// ways: against the ranked list of matching rules (decide.h's matching*Rules), against
// `airlock policy explain`'s answer for the same request given as text, and for fs.open against
// a scan without the rule index and a naive reference matcher (path_pattern_reference.h). Path
// patterns parsed from the input are also matched against the reference directly. Any
// disagreement aborts, so the fuzzer reports wrong decisions, not only crashes.
//
// Comment lines "#> TEXT" in the input add TEXT to the questions (as a path, caller, method,
// secret name, pattern and unit), so the fuzzer can shape the requests without breaking the TOML.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/policy/decide/decide.h"
#include "broker/policy/decide/decide_grant.h"
#include "broker/policy/load/policy_loader.h"
#include "broker/policy/model/path_pattern.h"
#include "broker/policy/review/explain.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/path_pattern_reference.h"

namespace airlock::fuzz {
namespace {

using namespace airlock::policy;

// Bounds the questions per input, so one input stays a few milliseconds and the fuzzer keeps its
// speed; the fuzzer varies which strings get asked instead.
constexpr size_t MAX_PROBES_PER_KIND = 16;
constexpr size_t MAX_UIDS = 4;
constexpr std::string_view PROBE_PREFIX = "#> ";

struct Probes {
  std::vector<std::string> paths, callers, methods, secrets, patterns, units;
  std::vector<uid_t> uids;
};

template <typename T>
void addProbe(std::vector<T>& list, T value, size_t limit = MAX_PROBES_PER_KIND) {
  if (list.size() >= limit) return;
  for (const T& known : list) {
    if (known == value) return;
  }
  list.push_back(std::move(value));
}

// The input's "#> TEXT" lines.
std::vector<std::string> probeLines(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size() && out.size() < MAX_PROBES_PER_KIND) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.starts_with(PROBE_PREFIX)) out.emplace_back(line.substr(PROBE_PREFIX.size()));
    start = end + 1;
  }
  return out;
}

// A path the pattern should match: each `**` segment dropped (variant 0) or made two segments
// (variant 1), each `*` made empty (0) or "x-y" (1).
std::string instantiate(std::string_view pattern, int variant) {
  std::string out;
  size_t start = 1;
  while (start <= pattern.size()) {
    size_t end = pattern.find('/', start);
    if (end == std::string_view::npos) end = pattern.size();
    std::string_view segment = pattern.substr(start, end - start);
    if (segment == "**") {
      if (variant == 1) out += "/d/e";
    } else {
      out += '/';
      for (char c : segment) out += c == '*' ? (variant == 1 ? "x-y" : "") : std::string(1, c);
    }
    start = end + 1;
  }
  return out.empty() ? "/" : out;
}

Probes probesFor(const std::vector<UnitPolicy>& units, std::string_view text) {
  Probes probes;
  for (const std::string& line : probeLines(text)) {
    addProbe(probes.paths, line);
    addProbe(probes.callers, line);
    addProbe(probes.methods, line);
    addProbe(probes.secrets, line);
    addProbe(probes.patterns, line);
    addProbe(probes.units, line);
  }
  for (const UnitPolicy& unit : units) {
    for (const Rule& rule : unit.rules) {
      if (const PathPattern* path = rule.pathPattern()) {
        addProbe(probes.patterns, path->text());
        for (int variant = 0; variant < 2; ++variant) {
          addProbe(probes.paths, instantiate(path->text(), variant));
        }
        addProbe(probes.paths, path->root() + "/f");
      }
      if (const CallerKeys* callers = rule.callers()) {
        for (auto& name : callers->callerNames) addProbe(probes.callers, name);
        for (uid_t uid : callers->callerUids) addProbe(probes.uids, uid, MAX_UIDS);
      }
      if (auto* call = std::get_if<CallKeys>(&rule.keys)) {
        for (auto& name : call->callerUnits) addProbe(probes.units, name);
      }
      if (const auto* methods = rule.methodList()) {
        for (auto& method : *methods) addProbe(probes.methods, method);
      }
      if (auto* secrets = std::get_if<SecretsKeys>(&rule.keys)) {
        for (auto& name : secrets->secretNames) addProbe(probes.secrets, name);
      }
      if (auto* invoke = std::get_if<InvokeKeys>(&rule.keys)) {
        for (auto& name : invoke->invokeUnits) addProbe(probes.units, name);
      }
    }
    addProbe(probes.units, unit.name);
  }
  for (const char* path : {"/srv/images/a.png", "/srv/images", "/etc/passwd", "/srv/images/../x",
                           "/srv//images", "/srv/images/", "relative", ""}) {
    addProbe(probes.paths, std::string(path));
  }
  addProbe(probes.callers, std::string("web"));
  addProbe(probes.uids, uid_t{1000}, MAX_UIDS);
  addProbe(probes.uids, uid_t{0}, MAX_UIDS);
  addProbe(probes.methods, std::string("thumbnail"));
  addProbe(probes.methods, std::string("*"));
  addProbe(probes.secrets, std::string("api-key"));
  addProbe(probes.units, std::string("web"));  // also a client name: must not match as one
  return probes;
}

std::string describeMatches(const UnitPolicy& unit, const std::vector<RuleMatch>& matches) {
  std::string text;
  for (auto& m : matches) {
    text += "  " + m.rule->describe() + " index " + std::to_string(m.rule - unit.rules.data()) +
            " specificity " + std::to_string(m.specificity) + "\n";
  }
  return text;
}

// The decision is the first of the ranked matches, or the default deny when none match; the
// matches are ranked as decide.h says.
void checkDecisionIsFirstMatch(const UnitPolicy& unit, const Decision& decision,
                               const std::vector<RuleMatch>& matches, const std::string& request) {
  std::string detail = request + "\ndecision: " + decision.ruleId + " (" + decision.reason +
                       ")\nmatches:\n" + describeMatches(unit, matches);
  if (matches.empty()) {
    fuzzCheck(decision.rule == nullptr && decision.ruleId == DEFAULT_DENY_RULE_ID &&
                  !decision.allowed(),
              "no rule matches, so the default rule denies", detail);
    return;
  }
  const Rule& first = *matches.front().rule;
  fuzzCheck(decision.rule == &first && decision.ruleId == first.id,
            "the deciding rule is the first ranked match", detail);
  fuzzCheck(decision.allowed() == (first.effect == Effect::ALLOW),
            "the verdict is the deciding rule's effect", detail);
  for (size_t i = 1; i < matches.size(); ++i) {
    const RuleMatch& a = matches[i - 1];
    const RuleMatch& b = matches[i];
    bool ranked = a.specificity > b.specificity ||
                  (a.specificity == b.specificity &&
                   ((a.rule->effect == Effect::DENY && b.rule->effect == Effect::ALLOW) ||
                    (a.rule->effect == b.rule->effect && a.rule < b.rule)));
    fuzzCheck(ranked, "matches are ranked: specificity, then deny first, then file order", detail);
  }
}

// `airlock policy explain` gives the same answer, with the other matches as the losers.
void checkExplainAgrees(const std::vector<UnitPolicy>& units, const ExplainRequest& request,
                        const Decision& decision, const std::vector<RuleMatch>& matches) {
  Explanation explanation = explain(units, request);
  std::string detail = explanation.request + "\ndecide: " + decision.ruleId + " (" +
                       decision.reason + ")\nexplain: " + explanation.decision.ruleId + " (" +
                       explanation.decision.reason + ")" + explanation.error;
  fuzzCheck(explanation.error.empty(), "explain accepts the request decide was asked", detail);
  fuzzCheck(explanation.decision.verdict == decision.verdict &&
                explanation.decision.ruleId == decision.ruleId &&
                explanation.decision.rule == decision.rule,
            "explain decides as decide does", detail);
  size_t winners = matches.empty() ? 0 : 1;
  bool sameLosers = explanation.lost.size() + winners == matches.size();
  for (size_t i = 0; sameLosers && i < explanation.lost.size(); ++i) {
    sameLosers = explanation.lost[i].rule == matches[i + winners].rule;
  }
  fuzzCheck(sameLosers, "explain's losers are the matches after the deciding rule", detail);
}

size_t indexOf(const UnitPolicy& unit, const Rule* rule) {
  return rule == nullptr ? SIZE_MAX : static_cast<size_t>(rule - unit.rules.data());
}

// What only fs.open has: the rule index, and patterns, which the reference matcher re-checks.
void checkFsOpenMatching(const UnitPolicy& unit, const UnitPolicy& unindexed,
                         std::string_view path, OpenModes modes, const Decision& decision,
                         const std::vector<RuleMatch>& matches, const std::string& request) {
  Decision scanned = decideFsOpen(unindexed, path, modes);
  fuzzCheck(indexOf(unit, decision.rule) == indexOf(unindexed, scanned.rule) &&
                scanned.verdict == decision.verdict,
            "the rule index decides as a scan of every rule",
            request + "\nindexed: " + decision.reason + "\nscanned: " + scanned.reason);
  if (validateRequestPath(path).refuses() || modes.bits == 0) {
    fuzzCheck(matches.empty(), "a refused request matches no rule", request);
    return;
  }
  std::vector<size_t> expected;
  for (size_t i = 0; i < unit.rules.size(); ++i) {
    const Rule& rule = unit.rules[i];
    // A granted_only rule reaches only what a call was granted; these requests carry no grant.
    if (rule.operation != Operation::FS_OPEN || rule.fs().grantedOnly) continue;
    const FsKeys& fs = rule.fs();
    bool modesApply = rule.effect == Effect::ALLOW ? modes.subsetOf(fs.modes)
                                                   : (modes.bits & fs.modes.bits) != 0;
    if (modesApply && referencePatternMatches(fs.path.text(), path)) expected.push_back(i);
  }
  std::vector<size_t> found;
  for (auto& m : matches) found.push_back(indexOf(unit, m.rule));
  std::sort(found.begin(), found.end());
  fuzzCheck(found == expected, "the matching fs.open rules are those the reference matches",
            request + "\nmatches:\n" + describeMatches(unit, matches));
}

void askFsOpen(const std::vector<UnitPolicy>& units, const UnitPolicy& unit,
               const Probes& probes) {
  UnitPolicy unindexed = unit;
  unindexed.fsIndex.reset();
  const uint8_t modeSets[] = {0x01, 0x02, 0x03, 0x06, 0x10, 0x0a, 0x1f, 0x00};
  for (const std::string& path : probes.paths) {
    for (uint8_t bits : modeSets) {
      OpenModes modes{bits};
      std::string request = "fs.open \"" + path + "\" modes " + modes.describe() + " in unit " +
                            unit.name + " of " + unit.file;
      Decision decision = decideFsOpen(unit, path, modes);
      std::vector<RuleMatch> matches = matchingFsOpenRules(unit, path, modes);
      checkDecisionIsFirstMatch(unit, decision, matches, request);
      checkFsOpenMatching(unit, unindexed, path, modes, decision, matches, request);
      if (decision.allowed()) {
        fuzzCheck(unit.allowsAny(Operation::FS_OPEN), "an allowed operation is indexed", request);
      }
      std::string modeText = bits == 0 ? "" : modes.describe();
      checkExplainAgrees(units, {unit.name, "fs.open", {{"path", path}, {"mode", modeText}}},
                         decision, matches);
    }
  }
}

// fs.stat, fs.list, fs.mkdir and fs.unlink: the same checks as fs.open without modes, and the
// index (which holds every fs.* rule) still decides as a scan.
void askFsPath(const std::vector<UnitPolicy>& units, const UnitPolicy& unit,
               const Probes& probes) {
  UnitPolicy unindexed = unit;
  unindexed.fsIndex.reset();
  for (Operation op : {Operation::FS_STAT, Operation::FS_LIST, Operation::FS_MKDIR,
                       Operation::FS_UNLINK}) {
    for (const std::string& path : probes.paths) {
      std::string request = std::string(operationName(op)) + " \"" + path + "\" in unit " +
                            unit.name + " of " + unit.file;
      Decision decision = decideFsPath(unit, op, path);
      std::vector<RuleMatch> matches = matchingFsPathRules(unit, op, path);
      checkDecisionIsFirstMatch(unit, decision, matches, request);
      Decision scanned = decideFsPath(unindexed, op, path);
      fuzzCheck(indexOf(unit, decision.rule) == indexOf(unindexed, scanned.rule) &&
                    scanned.verdict == decision.verdict,
                "the rule index decides as a scan of every rule", request);
      for (auto& m : matches) {
        fuzzCheck(m.rule->operation == op, "only rules of the operation match", request);
      }
      if (decision.allowed()) {
        fuzzCheck(unit.allowsAny(op) && unit.allowsAnyFs(), "an allowed operation is indexed",
                  request);
      }
      checkExplainAgrees(units, {unit.name, operationName(op), {{"path", path}}}, decision,
                         matches);
    }
  }
}

void askCall(const std::vector<UnitPolicy>& units, const UnitPolicy& unit, const Probes& probes) {
  for (const std::string& name : probes.callers) {
    for (uid_t uid : probes.uids) {
      for (const std::string& method : probes.methods) {
        Caller caller{name, uid};
        std::string request = "call " + unit.name + "." + method + " by " + caller.describe();
        Decision decision = decideCall(unit, caller, method);
        std::vector<RuleMatch> matches = matchingCallRules(unit, caller, method);
        checkDecisionIsFirstMatch(unit, decision, matches, request);
        if (decision.allowed()) {
          fuzzCheck(unit.allowsAny(Operation::CALL), "an allowed operation is indexed", request);
        }
        checkExplainAgrees(
            units,
            {unit.name, "call", {{"caller", name}, {"uid", std::to_string(uid)}, {"method", method}}},
            decision, matches);
      }
    }
  }
}

// A unit's call (the callee's side of an invoke) and the caller's side, for every probed unit.
void askInvoke(const std::vector<UnitPolicy>& units, const UnitPolicy& unit, const Probes& probes) {
  for (const std::string& other : probes.units) {
    for (const std::string& method : probes.methods) {
      Caller caller = Caller::unit(other);
      std::string request = "call " + unit.name + "." + method + " by " + caller.describe();
      Decision decision = decideCall(unit, caller, method);
      std::vector<RuleMatch> matches = matchingCallRules(unit, caller, method);
      checkDecisionIsFirstMatch(unit, decision, matches, request);
      for (auto& m : matches) {
        auto& listed = m.rule->call().callerUnits;
        fuzzCheck(std::find(listed.begin(), listed.end(), other) != listed.end(),
                  "a unit matches only rules listing it in caller_unit", request);
      }
      checkExplainAgrees(units, {unit.name, "call", {{"caller_unit", other}, {"method", method}}},
                         decision, matches);

      request = "invoke " + other + "." + method + " by unit " + unit.name;
      decision = decideInvoke(unit, other, method);
      matches = matchingInvokeRules(unit, other, method);
      checkDecisionIsFirstMatch(unit, decision, matches, request);
      if (decision.allowed()) {
        fuzzCheck(unit.allowsAny(Operation::INVOKE), "an allowed operation is indexed", request);
      }
      checkExplainAgrees(units, {unit.name, "invoke", {{"unit", other}, {"method", method}}},
                         decision, matches);
    }
  }
}

// May a probed client hand a call a probed path, read only and read-write?
void askGrant(const std::vector<UnitPolicy>& units, const UnitPolicy& unit, const Probes& probes) {
  OpenModes read, readWrite;
  read.add(OpenMode::READ);
  readWrite.add(OpenMode::READ);
  readWrite.add(OpenMode::WRITE);
  for (const std::string& name : probes.callers) {
    for (uid_t uid : probes.uids) {
      for (const std::string& path : probes.paths) {
        for (OpenModes modes : {read, readWrite}) {
          Caller caller{name, uid};
          std::string request = "grant " + path + " (" + modes.describe() + ") by " +
                                caller.describe();
          Decision decision = decideGrant(unit, caller, path, modes);
          std::vector<RuleMatch> matches = matchingGrantRules(unit, caller, path, modes);
          checkDecisionIsFirstMatch(unit, decision, matches, request);
          checkExplainAgrees(units,
                             {unit.name, "grant", {{"caller", name}, {"uid", std::to_string(uid)},
                                                   {"path", path}, {"mode", modes.describe()}}},
                             decision, matches);
        }
      }
    }
  }
}

void askSecretsGet(const std::vector<UnitPolicy>& units, const UnitPolicy& unit,
                   const Probes& probes) {
  for (const std::string& name : probes.secrets) {
    std::string request = "secrets.get \"" + name + "\" in unit " + unit.name;
    Decision decision = decideSecretsGet(unit, name);
    std::vector<RuleMatch> matches = matchingSecretsGetRules(unit, name);
    checkDecisionIsFirstMatch(unit, decision, matches, request);
    if (decision.allowed()) {
      fuzzCheck(unit.allowsAny(Operation::SECRETS_GET), "an allowed operation is indexed",
                request);
    }
    checkExplainAgrees(units, {unit.name, "secrets.get", {{"name", name}}}, decision, matches);
  }
}

// A pattern matches what the reference matches, and only paths beneath its root: the broker
// opens the root and resolves the request beneath it, and the rule index relies on it too.
void checkPattern(const std::string& text, const Probes& probes) {
  std::string error;
  std::optional<PathPattern> pattern = PathPattern::parse(text, error);
  if (!pattern) {
    fuzzCheck(!error.empty(), "a refused pattern says why", text);
    return;
  }
  fuzzCheck(pattern->text() == text, "a pattern keeps its text", text);
  for (const std::string& path : probes.paths) {
    if (validateRequestPath(path).refuses()) continue;
    bool matches = pattern->matches(path);
    std::string detail = "pattern \"" + text + "\" root \"" + pattern->root() + "\" path \"" +
                         path + "\" matches " + (matches ? "yes" : "no");
    fuzzCheck(matches == referencePatternMatches(text, path),
              "PathPattern::matches agrees with the reference matcher", detail);
    const std::string& root = pattern->root();
    bool beneathRoot = root == "/" || path == root ||
                       (path.starts_with(root) && path.size() > root.size() &&
                        path[root.size()] == '/');
    fuzzCheck(!matches || beneathRoot, "a pattern matches only paths beneath its root", detail);
    if (pattern->isExact()) {
      fuzzCheck(matches == (path == text), "an exact pattern matches only itself", detail);
    }
  }
}

LoadOptions fuzzLoadOptions() {
  LoadOptions options;
  options.defines = {{"images_dir", "/srv/images"}, {"images", "/srv/images"}};
  options.workerCheck = LoadOptions::WorkerCheck::SKIP;  // no worker executables here
  return options;
}

}  // namespace
}  // namespace airlock::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace airlock::fuzz;
  using namespace airlock::policy;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  LoadResult loaded = loadPolicyText(text, "fuzz.toml", fuzzLoadOptions());
  fuzzCheck(loaded.ok() || loaded.units.empty(), "a file with errors loads no unit",
            std::to_string(loaded.errors.size()) + " errors");
  for (const Diagnostic& d : loaded.errors) {
    fuzzCheck(!d.message.empty() && d.where.file == "fuzz.toml",
              "an error names the file and says what", d.describe());
  }
  Probes probes = probesFor(loaded.units, text);
  for (const UnitPolicy& unit : loaded.units) {
    askFsOpen(loaded.units, unit, probes);
    askFsPath(loaded.units, unit, probes);
    askCall(loaded.units, unit, probes);
    askSecretsGet(loaded.units, unit, probes);
    askInvoke(loaded.units, unit, probes);
    askGrant(loaded.units, unit, probes);
  }
  for (const std::string& pattern : probes.patterns) checkPattern(pattern, probes);
  return 0;
}

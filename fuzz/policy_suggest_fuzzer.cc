// libFuzzer target: the input is an audit log (JSON Lines; the first byte also sets --collapse).
// Whatever the records hold, `airlock policy suggest` reads its evidence from them and drafts
// rules; what must hold: the same evidence in reverse order gives the same text; the text, under a
// [unit] header and with each `justification = ""` filled in, loads without an error (so no
// never-granted syscall is ever suggested); and every fs.* and net.connect request it was drafted
// from is allowed by the rules it loads as. Any broken invariant aborts.

#include <algorithm>
#include <optional>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "audit/record_reader.h"
#include "broker/policy/decide/decide.h"
#include "broker/policy/decide/decide_net.h"
#include "broker/policy/model/net_address.h"
#include "broker/policy/load/policy_loader.h"
#include "broker/policy/suggest/suggest.h"
#include "broker/policy/suggest/suggest_render.h"
#include "cli/suggest_evidence.h"
#include "fuzz/fuzz_check.h"

namespace airlock::fuzz {
namespace {

std::vector<policy::Evidence> evidenceOfLog(const std::string& text) {
  std::vector<policy::Evidence> evidence;
  std::istringstream lines(text);
  uint64_t number = 0;
  for (std::string line; std::getline(lines, line);) {
    std::string why;
    KJ_IF_MAYBE(record, audit::parseRecordLine("fuzz.jsonl", ++number, line, why)) {
      for (auto& e : cli::evidenceOf(*record)) evidence.push_back(std::move(e));
    }
  }
  return evidence;
}

std::string filledIn(std::string rules) {
  const std::string empty = "justification = \"\"";
  for (size_t at; (at = rules.find(empty)) != std::string::npos;) {
    rules.replace(at, empty.size(), "justification = \"fuzzed\"");
  }
  return rules;
}

// Whether any net.connect rule could allow `host` at all, as suggest judges it: a host decide
// refuses outright (not canonical, an invalid name, an address never connected to, an IPv6
// address carrying one) is left out of a suggestion.
bool someRuleMayAllow(const std::string& host) {
  std::string error;
  std::optional<policy::RequestHost> canonical = policy::canonicalRequestHost(host, error);
  if (!canonical) return false;
  if (!canonical->literal) return !policy::validateRuleHostName(canonical->name).refuses();
  if (!policy::neverConnectedReason(*canonical->literal).empty()) return false;
  std::optional<policy::IpAddress> inner = canonical->literal->embeddedIpv4();
  return !inner || policy::neverConnectedReason(*inner).empty();
}

bool allowedBy(const policy::UnitPolicy& unit, const policy::Evidence& e) {
  if (e.operation == policy::Operation::NET_CONNECT) {
    if (!e.unixPath.empty()) return policy::decideNetConnectUnix(unit, e.unixPath).allowed();
    return policy::decideNetConnect(unit, e.host, e.port, nullptr).allowed();
  }
  if (e.operation == policy::Operation::FS_OPEN) {
    return policy::decideFsOpen(unit, e.path, e.modes).allowed();
  }
  return policy::decideFsPath(unit, e.operation, e.path).allowed();
}

}  // namespace
}  // namespace airlock::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace airlock;
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  policy::SuggestOptions options;
  options.collapse = data[0] % 8;
  std::vector<policy::Evidence> evidence = fuzz::evidenceOfLog(text);
  policy::RenderOptions render;
  render.unit = "fuzzed";
  std::string rules = policy::renderRules(policy::suggestRules(evidence, options), render);
  std::vector<policy::Evidence> reversed(evidence.rbegin(), evidence.rend());
  fuzz::fuzzCheck(policy::renderRules(policy::suggestRules(reversed, options), render) == rules,
                  "the order of the evidence changed the suggestion", rules);

  std::string file = "[unit]\nname = \"fuzzed\"\nworker = \"/bin/true\"\n" + fuzz::filledIn(rules);
  policy::LoadOptions load;
  load.workerCheck = policy::LoadOptions::WorkerCheck::SKIP;
  policy::LoadResult loaded = policy::loadPolicyText(file, "suggested.toml", load);
  fuzz::fuzzCheck(loaded.errors.empty() && loaded.units.size() == 1,
                  "the suggestion does not load",
                  (loaded.errors.empty() ? std::string() : loaded.errors[0].describe()) + "\n" +
                      file);
  for (const policy::Evidence& e : evidence) {
    if (!e.syscall.empty()) continue;  // the loader refuses a never-granted or unknown entry
    // No rule may allow an address airlockd never connects to (0.0.0.0, ::, ...): suggest
    // leaves such evidence out, and so does this check.
    if (e.operation == policy::Operation::NET_CONNECT && e.unixPath.empty() &&
        !fuzz::someRuleMayAllow(e.host)) {
      continue;
    }
    if (policy::isFsOperation(e.operation) && !policy::suggestionCanName(e.path)) continue;
    if (!e.unixPath.empty() && !policy::suggestionCanName(e.unixPath)) continue;
    fuzz::fuzzCheck(fuzz::allowedBy(loaded.units[0], e), "a request seen is not allowed",
                    e.path + e.host + e.unixPath + "\n" + file);
  }
  return 0;
}

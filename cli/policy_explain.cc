#include "cli/policy_explain.h"

#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "broker/policy/load/policy_loader.h"
#include "broker/policy/model/revision.h"
#include "broker/policy/review/explain.h"
#include "broker/syscalls/syscall_broker.h"
#include "sandbox/profile_grants.h"
#include "sandbox/syscall_sets.h"

namespace airlock::cli {

namespace _ {
namespace {

constexpr std::string_view USAGE = R"(
usage: airlock policy explain --policies DIR --unit UNIT --op OP [--arg KEY=VALUE]...
                              [--define NAME=VALUE]... [--json]
       airlock policy explain --policies DIR --unit UNIT --syscalls [--define NAME=VALUE]...
                              [--json]

Says what airlockd, started with --policies DIR, would decide for one request, and why: the
decision, the deciding rule with its file:line, and every other rule that matched and lost. It
loads DIR exactly as airlockd does (workers are not checked) and decides with airlockd's own code.

operations and their arguments:
  --op fs.open  --arg path=/abs/path --arg mode=read[,write,create,truncate,append]
                [--arg grant=/abs/path:MODES]
                (a worker opening a file; an empty mode= asks for nothing and is denied;
                with grant=, during a call that was granted that path with those modes)
  --op grant    --arg caller=NAME --arg path=/abs/path --arg mode=MODES [--arg uid=N]
                (may client NAME hand one call PATH with MODES? uid defaults to yours)
  --op call     --arg caller=NAME --arg method=METHOD [--arg uid=N]
                (a host client, authenticated as NAME, calling a method; uid defaults to yours)
  --op call     --arg caller_unit=UNIT --arg method=METHOD
                (unit UNIT calling this unit's method through invoke: the callee's side)
  --op invoke   --arg unit=CALLEE --arg method=METHOD
                (a worker of --unit invoking CALLEE.METHOD: the caller's side; the callee's
                call rules decide too, as --op call --arg caller_unit shows)
  --op secrets.get --arg name=NAME
                (a worker reading the secret NAME from airlockd's --secrets store)
  --op fs.stat | fs.list | fs.mkdir | fs.unlink  --arg path=/abs/path
  --op fs.rename --arg from=/abs/path --arg to=/abs/path
  --op fs.symlink --arg path=/abs/link [--arg target=relative/target]
                (a worker looking at or changing the tree; fs.createTemp is explained as
                fs.open with mode=read,write,create, and fs.mknod is always denied)
  --op net.connect --arg host=NAME|IP --arg port=N [--arg address=IP]
                (a worker asking for a TCP connection; a name is decided as if it resolved to
                address=, or by its listed name alone without it: explain does not resolve)
  --op net.connect --arg unix_path=/abs/path
                (a worker asking for a Unix socket connection)
An operation airlockd has no rule kind for, or a unit no policy defines, is denied by
default-deny, as airlockd denies it.

With --syscalls it prints instead the syscalls the unit's worker may make: every entry of its
seccomp allowlist (the default groups and its [sandbox] syscalls), with what the filter does
with it (allow, or the argument filter, or the error it answers), its group and the group's
reason. Anything not listed stops the worker, and the refusal names the group that would allow it.

options:
  --policies DIR       the policy directory                                      (required)
  --unit UNIT          the unit the request is made to (or by: fs.open, invoke...) (required)
  --op OP              fs.open, call, secrets.get, fs.stat, ..., net.connect, invoke (required)
  --arg KEY=VALUE      a request argument, as above; repeatable
  --syscalls           the unit's syscall allowlist instead of a decision (no --op)
  --define NAME=VALUE  value for ${NAME} in path values, as airlockd --define; repeatable
  --json               one JSON object on stdout instead of text
  -h, --help           print this help

What it cannot see: the kernel's resolution of the path when airlockd acts (a symlink or `..` that
leaves the grant is refused then, with the same rule id), a caller refused at authentication, and
an invoke refused for its chain (a cycle, or nesting deeper than airlockd allows).

exit status: 0 allowed, 1 denied (or DIR does not load: errors as file:line:col on stderr),
2 usage error.
)";

constexpr std::string_view SHORT_USAGE =
    "usage: airlock policy explain --policies DIR --unit UNIT --op OP [--arg KEY=VALUE]... "
    "[--define NAME=VALUE]... [--json]\n"
    "       airlock policy explain --policies DIR --unit UNIT --syscalls [--json]\n";

struct Options {
  policy::LoadOptions load;
  std::string policies;
  policy::ExplainRequest request;
  bool json = false;
  bool syscalls = false;  // the unit's syscall allowlist instead of a decision
};

int usageError(const std::string& message) {
  std::cerr << "airlock policy explain: " << message << "\n"
            << SHORT_USAGE << "try 'airlock policy explain --help'\n";
  return 2;
}

// Splits KEY=VALUE; returns false if there is no '=' or no KEY.
bool splitPair(std::string_view text, std::string& key, std::string& value) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) return false;
  key = std::string(text.substr(0, eq));
  value = std::string(text.substr(eq + 1));
  return true;
}

// Returns -1 when parsing succeeded, else the exit status to return (0 for --help).
int parseArgs(int argc, char** argv, Options& out) {
  out.load.workerCheck = policy::LoadOptions::WorkerCheck::SKIP;  // as `policy check` does
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string text, key, value;
    auto next = [&]() -> bool {
      if (i + 1 >= argc) return false;
      text = argv[++i];
      return true;
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << USAGE.substr(1);  // the raw string starts with a newline
      return 0;
    } else if (arg == "--json") {
      out.json = true;
    } else if (arg == "--syscalls") {
      out.syscalls = true;
    } else if (arg != "--policies" && arg != "--unit" && arg != "--op" && arg != "--arg" &&
               arg != "--define") {
      return usageError("unknown option or argument " + std::string(arg));
    } else if (!next()) {
      return usageError(std::string(arg) + " needs a value");
    } else if (arg == "--policies") {
      out.policies = text;
    } else if (arg == "--unit") {
      out.request.unit = text;
    } else if (arg == "--op") {
      out.request.operation = text;
    } else if (!splitPair(text, key, value)) {
      return usageError(std::string(arg) + " needs KEY=VALUE, got \"" + text + "\"");
    } else if (arg == "--arg") {
      if (!out.request.args.emplace(key, value).second) return usageError("--arg " + key + " given twice");
    } else if (!policy::isDefineName(key) || !out.load.defines.emplace(key, value).second) {
      return usageError("--define " + key + " is not a valid name or is given twice");
    }
  }
  if (out.policies.empty()) return usageError("--policies is required");
  if (out.request.unit.empty()) return usageError("--unit is required");
  if (out.syscalls) {
    if (!out.request.operation.empty() || !out.request.args.empty()) {
      return usageError("--syscalls takes no --op or --arg: it lists, it does not decide");
    }
    return -1;
  }
  if (out.request.operation.empty()) return usageError("--op is required");
  bool byClient = out.request.operation == "call" || out.request.operation == "grant";
  if (byClient && out.request.args.count("caller") &&
      !out.request.args.count("uid")) {
    out.request.args["uid"] = std::to_string(getuid());
  }
  return -1;
}

// "file:line", as decision reasons name a rule (the line of its [[rule]] header).
std::string fileLine(const policy::Rule& rule) {
  return rule.where.file + ":" + std::to_string(rule.where.line);
}

std::string whereOf(const policy::Rule* rule) {
  return rule == nullptr ? "(implicit)" : fileLine(*rule);
}

const char* effectName(const policy::Rule& rule) {
  return rule.effect == policy::Effect::ALLOW ? "allow" : "deny";
}

void printJson(const policy::Explanation& e, const std::string& revision) {
  nlohmann::ordered_json out;
  out["request"] = e.request;
  out["decision"] = policy::verdictName(e.decision.verdict);
  out["rule"] = e.decision.ruleId;
  out["where"] = e.decision.rule == nullptr ? "" : fileLine(*e.decision.rule);
  out["reason"] = e.decision.reason;
  out["justification"] = e.decision.rule == nullptr ? "" : e.decision.rule->justification;
  out["policy_rev"] = revision;
  if (!e.worker.empty()) out["worker"] = e.worker;
  out["lost"] = nlohmann::ordered_json::array();
  for (const policy::RuleMatch& m : e.lost) {
    out["lost"].push_back({{"rule", m.rule->id},
                           {"where", fileLine(*m.rule)},
                           {"effect", effectName(*m.rule)},
                           {"specificity", m.specificity}});
  }
  // Paths and methods may hold any bytes: replace what is not UTF-8 rather than throw.
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void printText(const policy::Explanation& e, const std::string& revision) {
  std::cout << policy::verdictName(e.decision.verdict) << ": " << e.request << "\n"
            << "  rule:   " << e.decision.ruleId << " " << whereOf(e.decision.rule) << "\n"
            << "  reason: " << e.decision.reason << "\n";
  if (e.decision.rule != nullptr && !e.decision.rule->justification.empty()) {
    std::cout << "  justification: " << e.decision.rule->justification << "\n";
  }
  if (!e.worker.empty()) std::cout << "  worker: " << e.worker << "\n";
  std::cout << "  policy: revision " << revision << "\n";
  if (e.lost.empty()) return;
  std::cout << "  matched and lost:\n";
  for (const policy::RuleMatch& m : e.lost) {
    std::cout << "    " << m.rule->id << " " << fileLine(*m.rule) << ": "
              << effectName(*m.rule) << ", specificity " << m.specificity << "\n";
  }
}

// What the filter compiled for `unit` does with each syscall it lets through: the groups' entries
// (effectiveAllowlist), then what its seccomp_profile was granted beyond them, and, for a unit
// with brokered syscalls, those the broker answers instead of the kernel (whatever a group says).
std::vector<sandbox::AllowedSyscall> unitAllowlist(const policy::UnitPolicy& unit) {
  std::vector<sandbox::AllowedSyscall> allowed = sandbox::effectiveAllowlist(unit.syscalls);
  auto listed = [&](const std::string& name) {
    for (auto& entry : allowed) {
      if (entry.name == name) return &entry;
    }
    return static_cast<sandbox::AllowedSyscall*>(nullptr);
  };
  if (unit.seccompProfile != nullptr && unit.seccompProfile->grants != nullptr) {
    for (auto& granted : unit.seccompProfile->grants->granted) {
      if (listed(granted.name) != nullptr) continue;
      allowed.push_back({granted.name,
                         granted.argumentFiltered ? "allow with the profile's argument filter"
                                                  : "allow",
                         "profile " + unit.seccompProfile->written + " " + granted.path, false,
                         "granted by the seccomp profile within group " + granted.group});
    }
  }
  if (unit.brokerSyscalls) {
    for (auto& brokered : broker::syscalls::brokeredSyscallSpecs(unit)) {
      bool net = brokered.name == "socket" || brokered.name == "connect";
      std::string action = net ? "brokered: decided by the net.connect rules"
                               : "brokered: decided by the fs.* rules";
      if (brokered.nativeWhenFlagArg >= 0) action += " (native on an fd it holds)";
      if (auto* entry = listed(brokered.name)) {
        entry->action = action;
        continue;
      }
      allowed.push_back({brokered.name, action, "broker_syscalls", false,
                         "transparent brokering: the broker decides, does and records it"});
    }
  }
  return allowed;
}

// The allowlist of `unit`'s worker, as text or one JSON object.
int printSyscalls(const policy::UnitPolicy& unit, const std::string& revision, bool json) {
  std::vector<sandbox::AllowedSyscall> allowed = unitAllowlist(unit);
  if (json) {
    nlohmann::ordered_json out;
    out["unit"] = unit.name;
    out["policy_rev"] = revision;
    out["syscalls"] = nlohmann::ordered_json::array();
    for (auto& entry : allowed) {
      out["syscalls"].push_back({{"name", entry.name},
                                 {"action", entry.action},
                                 {"group", entry.group},
                                 {"default", entry.isDefault},
                                 {"reason", entry.reason}});
    }
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cout << "syscalls of unit " << unit.name << "'s worker (policy revision " << revision
            << "): " << allowed.size() << "; any other stops the worker\n";
  for (auto& entry : allowed) {
    std::string from = entry.group.empty() ? "named alone"
                                           : entry.group + (entry.isDefault ? " (default)" : "");
    auto padded = [](std::string text, size_t width) {
      return text.size() < width ? text + std::string(width - text.size(), ' ') : text + " ";
    };
    std::cout << "  " << padded(entry.name, 21) << padded(from, 29) << entry.action << "\n";
  }
  std::cout << "groups:\n";
  std::string lastGroup = "-";
  for (auto& entry : allowed) {
    if (entry.group.empty() || entry.group == lastGroup) continue;
    lastGroup = entry.group;
    std::cout << "  " << entry.group << ": " << entry.reason << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace _

int policyExplainMain(int argc, char** argv) {
  _::Options options;
  int status = _::parseArgs(argc, argv, options);
  if (status >= 0) return status;
  policy::LoadResult loaded = policy::loadPolicyDir(options.policies, options.load);
  if (!loaded.ok()) {
    for (const policy::Diagnostic& d : loaded.errors) std::cerr << d.describe() << "\n";
    std::cerr << "airlock policy explain: " << loaded.errors.size() << " error(s) in "
              << options.policies << ": airlockd would not start with it\n";
    return 1;
  }
  if (options.syscalls) {
    for (const policy::UnitPolicy& unit : loaded.units) {
      if (unit.name != options.request.unit) continue;
      return _::printSyscalls(unit, policy::policyRevision(loaded.units), options.json);
    }
    std::cerr << "airlock policy explain: no unit \"" << options.request.unit << "\" in "
              << options.policies << "\n";
    return 1;
  }
  policy::Explanation e = policy::explain(loaded.units, options.request);
  if (!e.error.empty()) return _::usageError(e.error);
  if (options.json) {
    _::printJson(e, policy::policyRevision(loaded.units));
  } else {
    _::printText(e, policy::policyRevision(loaded.units));
  }
  return e.decision.allowed() ? 0 : 1;
}

}  // namespace airlock::cli

#pragma once
// One request given as text (unit, operation name, key=value arguments), decided the way airlockd
// decides it: the same decideFsOpen / decideCall, plus the rules that matched and lost. For
// `airlock policy explain` and the decision-table tests; never on the per-call path.

#include <map>
#include <string>
#include <vector>

#include "broker/policy/decide/decide.h"
#include "broker/policy/model/policy.h"

namespace airlock::policy {

struct ExplainRequest {
  std::string unit;
  std::string operation;                    // "fs.open", "call", ...: the names used in files
  std::map<std::string, std::string> args;
  // fs.open: path, mode; call: caller and uid, or caller_unit, and method; secrets.get: name;
  // invoke (unit is the caller): unit (the callee), method; fs.stat, fs.list,
  // fs.mkdir, fs.unlink: path; fs.rename: from, to; fs.symlink: path and optionally target;
  // net.connect: host, port and optionally address (what the name resolves to; a literal host
  // is its own address), or unix_path
};

struct Explanation {
  std::string error;
  // Not empty: the request cannot be put to the broker as written (missing or unknown argument,
  // unknown mode name, uid not a number); nothing was decided.

  Decision decision;
  std::vector<RuleMatch> lost;  // matched, ranked below the deciding rule (decide.h's order)
  std::string request;          // one line: what was asked, e.g. "fs.open /a (read) in unit u"
  std::string worker;
  // An allowed call to a unit whose worker_reuse is not "any": which worker serves it, and where
  // the key is written. Empty otherwise.
};

Explanation explain(const std::vector<UnitPolicy>& units, const ExplainRequest& request);
// Borrows `units`: the result's rule pointers point into them. An unknown unit or operation is a
// deny by DEFAULT_DENY_RULE_ID, as airlockd refuses a request it has no unit or row for.
// `mode` is a comma-separated list of read, write, create, truncate, append; empty asks for no
// mode (which is denied).

}  // namespace airlock::policy

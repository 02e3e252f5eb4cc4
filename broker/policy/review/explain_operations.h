#pragma once
// Internal to explain (explain.h): one explainer per kind of operation, each deciding a request
// the way airlockd decides that operation and collecting the rules that matched and lost. The
// operation's row (operations.h) points at its explainer; explain() checks the argument names
// against the row first, so each may read its required arguments with at().

#include "broker/policy/review/explain.h"

namespace airlock::policy::_ {

// Each fills `out` for a request of `op` to `unit`, null when no policy defines the unit (then
// denied by default, as airlockd refuses a request for a unit it has no policy for). A value it
// cannot use (a mode name, a uid, a port) sets out.error and decides nothing.
void explainFsOpen(const UnitPolicy* unit, Operation op, const ExplainRequest& request,
                   Explanation& out);
void explainFsPath(const UnitPolicy* unit, Operation op, const ExplainRequest& request,
                   Explanation& out);  // fs.stat, fs.list, fs.mkdir, fs.unlink: by path alone
void explainFsRename(const UnitPolicy* unit, Operation op, const ExplainRequest& request,
                     Explanation& out);
void explainFsSymlink(const UnitPolicy* unit, Operation op, const ExplainRequest& request,
                      Explanation& out);
void explainCall(const UnitPolicy* unit, Operation op, const ExplainRequest& request,
                 Explanation& out);
void explainSecretsGet(const UnitPolicy* unit, Operation op, const ExplainRequest& request,
                       Explanation& out);
void explainNetConnect(const UnitPolicy* unit, Operation op, const ExplainRequest& request,
                       Explanation& out);
void explainGrant(const UnitPolicy* unit, Operation op, const ExplainRequest& request,
                  Explanation& out);  // may client caller (uid) grant path with mode to the unit?
void explainInvoke(const UnitPolicy* unit, Operation op, const ExplainRequest& request,
                   Explanation& out);  // `request.unit` is the caller; its side only

Decision denyByDefault(std::string reason);
// A deny by DEFAULT_DENY_RULE_ID, with no rule.

}  // namespace airlock::policy::_

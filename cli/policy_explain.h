#pragma once
// `airlock policy explain`: what airlockd would decide for one request, and why.

namespace airlock::cli {

// argv[0] is "explain"; the rest are its options. Loads the policy directory as airlockd does
// (without checking workers), decides with the broker's own decide functions (explain.h) and
// prints the decision, the deciding rule with its file:line and the rules that matched and lost,
// on stdout (as JSON with --json). Returns the exit status: 0 allow, 1 deny (or a policy
// directory that does not load, reported on stderr), 2 usage error.
int policyExplainMain(int argc, char** argv);

}  // namespace airlock::cli

// cli/main.cc dispatches to it unqualified.
using airlock::cli::policyExplainMain;

#pragma once
// `airlock policy diff OLD NEW`: what replacing policy set OLD by NEW (a reload) would change,
// per unit and rule. argv[0] is "diff".

namespace airlock::cli {
int policyDiffMain(int argc, char** argv);
}

// cli/main.cc dispatches to it unqualified.
using airlock::cli::policyDiffMain;

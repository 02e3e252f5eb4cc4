#pragma once
// `airlock run`: one command line under a unit's sandbox and rules, its own file syscalls
// brokered by a private broker for the run, every decision written to an audit log.

int runMain(int argc, char** argv);

#pragma once
// `airlock doctor`: what this kernel and this user offer the sandbox, and whether airlock can run
// at full strength. argv[0] is "doctor". Exit 0 at full strength, 1 if not, 2 on a usage error.
int doctorMain(int argc, char** argv);

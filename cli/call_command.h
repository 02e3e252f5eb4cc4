#pragma once
// `airlock call`: call a unit's method through a running airlockd. argv[0] is "call".
int callMain(int argc, char** argv);

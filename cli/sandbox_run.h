#pragma once
// `airlock sandbox run`: run a program in the worker sandbox. argv[0] is "run".
int sandboxRunMain(int argc, char** argv);

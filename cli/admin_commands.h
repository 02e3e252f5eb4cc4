#pragma once
// `airlock reload`, `airlock status` and `airlock drain`: admin operations on a running airlockd,
// for a client the policy's [broker] admins lists. argv[0] is the command's name.
int reloadMain(int argc, char** argv);
int statusMain(int argc, char** argv);
int drainMain(int argc, char** argv);

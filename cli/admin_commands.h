#pragma once
// `airlock reload` and `airlock status`: admin operations on a running airlockd, for a client
// the policy's [broker] admins lists. argv[0] is "reload" / "status".
int reloadMain(int argc, char** argv);
int statusMain(int argc, char** argv);

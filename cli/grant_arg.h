#pragma once
// `airlock call --grant PATH:MODES`: one grant of a call, as text. MODES is a comma-separated list
// of read, write, create, truncate, append, each also by its first letter (r,w,c,t,a). PATH is
// everything before the last ':', so a path may hold ':' itself.

#include <optional>
#include <string>

#include "sdk/host/client.h"

// The grant `text` names, or nullopt with `error` saying why (no ':', no or unknown mode, a mode
// twice, an empty path). The path is not checked further: the broker decides it.
std::optional<airlock::Grant> parseGrantArg(const std::string& text, std::string& error);

// `airlock call --grant-fd FD:PATH:MODES`: a descriptor grant, this command's open descriptor FD
// served to the worker that opens PATH (FD: decimal digits before the first ':'; the rest as
// for --grant). FD must be open in this process (`3<file` in a shell).
std::optional<airlock::Grant> parseGrantFdArg(const std::string& text, std::string& error);

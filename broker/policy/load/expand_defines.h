#pragma once
// Loader internal: `${name}` substitution in path values of policy files.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace airlock::policy::_ {

// Replaces each `${name}` in `text` with defines[name]. A `$` not followed by `{` is literal.
// Returns nullopt and sets `error` for an unterminated `${`, a name that is not
// [A-Za-z_][A-Za-z0-9_]*, an undefined name, or a value containing `*` or `${` (a define is a
// literal path: it must not widen a pattern behind the policy author's back).
std::optional<std::string> expandDefines(std::string_view text,
                                         const std::map<std::string, std::string>& defines,
                                         std::string& error);

}  // namespace airlock::policy::_

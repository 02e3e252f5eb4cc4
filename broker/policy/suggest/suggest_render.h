#pragma once
// Writes a Suggestion (suggest.h) as [[rule]] tables a policy file can hold: each rule after a
// comment citing its evidence (how many requests, the first and last audit seq) and, for a glob,
// why it is one. A dangerous allowance gets `justification = ""`, which `airlock policy check`
// refuses until a person writes why. Pure; deterministic.

#include <map>
#include <string>

#include "broker/policy/suggest/suggest.h"

namespace airlock::policy {

struct RenderOptions {
  std::string unit;  // for the `airlock audit query` hint
  std::map<std::string, std::string> defines;
  // NAME -> VALUE: a path beginning with VALUE is written ${NAME}..., as the shipped policies
  // are (airlockd --define NAME=VALUE). The longest VALUE that fits wins.
  bool skipAlreadyAllowed = false;  // leave out rules whose every request was already allowed
};

std::string renderRules(const Suggestion& suggestion, const RenderOptions& options);

// `text` as a TOML basic string, quotes included: \" \\ and \uXXXX for control characters.
std::string tomlString(std::string_view text);

}  // namespace airlock::policy

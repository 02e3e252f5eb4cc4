#pragma once
// A second, deliberately naive implementation of PathPattern matching for the policy fuzzer to
// compare against: dynamic programming over segments and characters, written from the contract
// in broker/policy/model/path_pattern.h rather than from path_pattern.cc, so the two share no bug.
// Quadratic; only for the short strings a fuzzer makes.

#include <string_view>

namespace airlock::fuzz {

// True if `patternText` (a pattern PathPattern::parse accepted) matches `path` (a path
// validateRequestPath accepted): `*` any run of characters within a segment, a `**` segment zero
// or more whole segments, every other character itself.
bool referencePatternMatches(std::string_view patternText, std::string_view path);

}  // namespace airlock::fuzz

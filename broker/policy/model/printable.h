#pragma once
// Worker- or host-controlled text quoted into one log or audit line: printable ASCII kept,
// every other byte (and the backslash) written as \xNN, cut to `maxBytes` with "..." after.
// Used for decision reasons and for names a client sends during authentication.

#include <cstddef>
#include <string>
#include <string_view>

namespace airlock::policy {

std::string printable(std::string_view text, size_t maxBytes);

}  // namespace airlock::policy

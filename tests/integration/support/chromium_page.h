// Loads a page in Debian's headless Chromium (scripts/install-deps installs it) and returns the
// DOM its scripts left, for the tests of `airlock audit report`'s HTML.
#pragma once

#include <string>

namespace airlock::testing {

constexpr char CHROMIUM[] = "/usr/bin/chromium";

struct PageLoad {
  int exitCode = -1;
  std::string dom;           // the DOM after scripts ran, serialized
  std::string consoleLines;  // the page's console messages Chromium logged
};

// Loads htmlPath (a local file) with a private, throw-away profile. Bounded by a generous time
// limit against a hang, not as a threshold: a slow machine is not a failure.
PageLoad loadInChromium(const std::string& htmlPath);

}  // namespace airlock::testing

#pragma once
// Where the running benchmark's own executable is: the build's bin/, where airlockd and the
// bench worker are too.

#include <string>

namespace airlock::bench {

std::string selfDir();  // from /proc/self/exe; throws kj::Exception if it cannot be read

}  // namespace airlock::bench

#pragma once
// What the auditor's tools accept as an audit log (or an anchor) to read: a regular file. A
// directory, FIFO or device is refused by name before it is read, so that a mistyped path is an
// error, not an empty log that verifies, a read that never ends (/dev/zero) or one that waits
// for a writer (a FIFO).

#include <string>

namespace airlock::audit {

// Why `path` cannot be read as an audit log: empty if it is a regular file (links followed),
// else e.g. "No such file or directory" or "not a regular file (a directory)".
std::string whyNotALogFile(const std::string& path);

}  // namespace airlock::audit

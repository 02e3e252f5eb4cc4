#pragma once
// The sandbox's filesystem: a read-only tmpfs root holding only the program, the shared-library
// directories, the spec's read-only paths and /dev/{null,zero,urandom}, each at its host path.
// No /proc, /etc, /tmp or /sys.

#include <string>
#include <vector>

#include "sandbox/sandbox_spec.h"
#include "sandbox/setup_error.h"

namespace airlock::sandbox {

enum class BindKind {
  PROGRAM,    // read-only, executable
  LIBRARY,    // read-only, executable (ld.so maps libraries PROT_EXEC, which noexec refuses)
  READ_ONLY,  // read-only, noexec
  DEVICE,     // read-only, noexec, the one kind without nodev
};

struct BindMount {
  std::string path;  // absolute, canonical host path; also the path inside the sandbox
  BindKind kind;
};

struct RootSymlink {
  std::string path;    // absolute, e.g. "/lib"
  std::string target;  // as on the host, e.g. "usr/lib"
};

struct RootPlan {
  std::string programPath;         // canonical path of spec.program: what the child executes
  std::vector<BindMount> binds;    // sorted by path, so a parent is attached before a child
  std::vector<RootSymlink> symlinks;
  std::string workingDirectory = "/";  // absolute, made as an empty directory if nothing is there
  std::vector<std::string> emptyDirectories;  // likewise (SandboxSpec::emptyDirectories)
};

RootPlan planRoot(const SandboxSpec& spec);
// Broker side, before clone3. Canonicalises paths with realpath(3) (so /bin/x becomes /usr/bin/x
// and meets the /bin symlink inside); a path that does not resolve is kept as given and fails
// later, in the child, with the open_tree error. Throws kj::Exception on a relative path, and,
// naming it, on a read-only path that fails readOnlyPathThroughSymlink(): checked at every
// start, since a symlink can be replaced after the policy loaded.

// Why `path` (absolute) may not be a read-only path: empty unless a symlink on the way to it
// (its targets' links included) is in a directory a user other than root or this process's own
// may write. The sandbox binds what the path resolves to, so whoever could replace such a link
// would choose which host tree the worker reads (/tmp/x -> /etc). A path that is itself a link
// is also shown as that link (/usr/bin/sh -> dash).
std::string readOnlyPathThroughSymlink(const std::string& path);

std::vector<int> openBindSources(const RootPlan& plan, const SetupReporter& reporter);
// Child side, and BEFORE the child changes to its mapped uid: clones each bind source with
// open_tree(OPEN_TREE_CLONE) while the child still has host uid 0's owner access, since a build
// tree may sit under a 0700 root-owned directory the mapped uid (65534) cannot traverse. Also
// applies each clone's mount flags. Returns one close-on-exec fd per plan.binds entry.

void enterNewRoot(const RootPlan& plan, const std::vector<int>& sources,
                  const SetupReporter& reporter);
// Child side, after the uid change (tmpfs files must be created by a mapped uid) and before
// capabilities are dropped (mounting needs CAP_SYS_ADMIN in the sandbox's user namespace).
// Builds the tmpfs, attaches the clones, pivot_roots into it, makes it all read-only and changes
// into plan.workingDirectory.

}  // namespace airlock::sandbox

#pragma once
// Compiles syscall groups (syscall_sets.h) into a libseccomp filter, and loads it.

#include <kj/common.h>
#include <kj/string.h>

namespace airlock::sandbox {

class SeccompFilter {
 public:
  static SeccompFilter compile(kj::ArrayPtr<const char* const> groupNames);
  // Default action: kill the whole process (SIGSYS); foreign architectures (i386 `int 0x80`,
  // x32) also kill the process. Throws kj::Exception on an unknown group or syscall name.
  // Called in the launcher before clone3, so table errors surface as exceptions in the broker.

  SeccompFilter(SeccompFilter&& other) noexcept;
  SeccompFilter& operator=(SeccompFilter&&) = delete;
  ~SeccompFilter();

  int load() const;
  // Installs the filter on the calling thread. Returns 0, or -errno. Called in the sandbox child
  // after clone3, as the last step before execve; never throws (the child reports errors on its
  // setup pipe instead). Requires PR_SET_NO_NEW_PRIVS (set by the caller).

 private:
  explicit SeccompFilter(void* ctx) : ctx_(ctx) {}
  void* ctx_;  // scmp_filter_ctx, owned; nullptr once moved from
};

}  // namespace airlock::sandbox

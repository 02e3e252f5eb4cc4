#include "sandbox/resource_limits.h"

#include <sys/resource.h>

#include <kj/debug.h>

#include <algorithm>
#include <cerrno>

namespace airlock::sandbox {

namespace _ {

constexpr rlim_t MIB = 1024 * 1024;

void setLimit(int resource, const char* name, rlim_t value, const SetupReporter& reporter) {
  struct rlimit current;
  if (getrlimit(resource, &current) < 0) reporter.fail("rlimits", errno, "getrlimit(%s)", name);
  // Never above what the launcher itself has: lowering needs no privilege, raising would fail.
  rlim_t effective = current.rlim_max == RLIM_INFINITY ? value : std::min(value, current.rlim_max);
  struct rlimit limit = {effective, effective};
  if (setrlimit(resource, &limit) < 0) {
    reporter.fail("rlimits", errno, "setrlimit(%s, %llu)", name,
                  static_cast<unsigned long long>(effective));
  }
}

}  // namespace _

void validateResourceLimits(const ResourceLimits& limits) {
  KJ_REQUIRE(limits.addressSpaceMiB > 0, "sandbox limit addressSpaceMiB must be positive");
  KJ_REQUIRE(limits.openFiles > 0, "sandbox limit openFiles must be positive");
  KJ_REQUIRE(limits.threads > 0, "sandbox limit threads must be positive");
  KJ_REQUIRE(limits.fileSizeMiB > 0, "sandbox limit fileSizeMiB must be positive");
}

void applyResourceLimits(const ResourceLimits& limits, const SetupReporter& reporter) {
  _::setLimit(RLIMIT_CORE, "RLIMIT_CORE", 0, reporter);
  _::setLimit(RLIMIT_AS, "RLIMIT_AS", limits.addressSpaceMiB * _::MIB, reporter);
  _::setLimit(RLIMIT_NOFILE, "RLIMIT_NOFILE", limits.openFiles, reporter);
  _::setLimit(RLIMIT_NPROC, "RLIMIT_NPROC", limits.threads, reporter);
  _::setLimit(RLIMIT_FSIZE, "RLIMIT_FSIZE", limits.fileSizeMiB * _::MIB, reporter);
  _::setLimit(RLIMIT_CPU, "RLIMIT_CPU", limits.cpuSeconds == 0 ? RLIM_INFINITY : limits.cpuSeconds,
              reporter);
}

}  // namespace airlock::sandbox

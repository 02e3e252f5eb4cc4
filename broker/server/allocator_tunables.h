#pragma once
// glibc's per-thread cache (tcache) keeps 7 freed chunks of each small size by default. One
// event-loop turn of airlockd with 16 calls in flight frees far more than 7 of a size (promise
// nodes, Cap'n Proto messages, audit lines), so most frees and the allocations after them fall
// through to the arena's bins, and its 8 KiB message segments then consolidate the fast bins.
// With 256 a size, airlockd spends ~11% less CPU per call at 16 in flight and answers ~8% more
// calls a second (docs/PERFORMANCE.md, "glibc's per-thread cache"), close to what tcmalloc gave,
// while keeping glibc's allocator and its integrity checks.
//
// Tunables are read by the dynamic loader at exec only, so airlockd executes itself again, once,
// with GLIBC_TUNABLES set, before it does anything else (same pid, name, argv and fds).

namespace airlock::broker {

// What airlockd puts in GLIBC_TUNABLES.
constexpr char AIRLOCKD_ALLOCATOR_TUNABLES[] = "glibc.malloc.tcache_count=256";

// Re-executes this program (the file /proc/self/exe names) with GLIBC_TUNABLES set to the
// tunables above, unless the variable is already set (by the operator, whose choice stands, or by the first exec: set to
// an empty string it turns this off) or the build is sanitized (ASan has its own allocator).
// Returns only if it did not re-execute: nullptr, or why the exec failed (airlockd then runs
// with glibc's defaults and logs it).
const char* reexecWithAllocatorTunables(char** argv);

// False in a sanitized build, where reexecWithAllocatorTunables() leaves the allocator alone.
bool allocatorTunablesApplyToThisBuild();

}  // namespace airlock::broker

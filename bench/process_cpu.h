#pragma once
// CPU time and context switches of a whole process (every thread), read from /proc, for figures
// per call that do not depend on how the wall clock was shared out: what a process spent is
// steadier on this shared 2-vCPU machine than a difference of two latencies.

#include <sys/types.h>

#include <vector>

namespace airlock::bench {

struct ProcessCpu {
  long long cpuNanos = 0;  // time on a CPU, user and kernel, of the threads alive when read
  long voluntary = 0, involuntary = 0;  // context switches
};

// The totals so far of `pid`'s live threads (/proc/PID/task/*/schedstat and status); zero if the
// process is gone. A thread that exits between two readings takes its time with it.
ProcessCpu processCpuOf(pid_t pid);

// The children of `parent` (airlockd's workers, or a relay's sandboxed worker), from each
// process's PPid in /proc.
std::vector<pid_t> childrenOf(pid_t parent);

}  // namespace airlock::bench

#pragma once
// Copies arguments out of a stopped thread's memory, and results into it, for a brokered syscall
// (syscall_broker.h). Everything the broker decides on is a copy it made here: the kernel never
// re-reads a pointer for a call the broker performs.

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace airlock::broker::syscalls {

// A NUL-terminated path of at most PATH_MAX bytes at `address` in thread `tid`'s memory. On
// failure returns false with `error` set as the syscall itself would fail: EFAULT for memory
// the thread cannot read, ENAMETOOLONG for a string without a NUL within PATH_MAX.
[[nodiscard]] bool readPath(pid_t tid, uint64_t address, std::string& out, int& error);

// `size` bytes at `address`: false (errno in `error`) unless all of them could be read.
[[nodiscard]] bool readBytes(pid_t tid, uint64_t address, void* out, size_t size, int& error);

// Writes `size` bytes to `address`: false (EFAULT) unless all of them could be written.
[[nodiscard]] bool writeBytes(pid_t tid, uint64_t address, const void* data, size_t size,
                              int& error);

}  // namespace airlock::broker::syscalls

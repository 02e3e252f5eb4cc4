#pragma once
// Reading and writing cgroup files and directories: each call one syscall's worth, failures as
// values naming the path and errno (a missing controller file is an answer, not a bug).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace airlock::broker::resources {

// "" on success, else "write(PATH, VALUE): ENOENT No such file or directory".
std::string writeCgroupFile(const std::string& path, const std::string& value);
std::optional<std::string> readCgroupFile(const std::string& path);  // nullopt: cannot be read
std::optional<std::string> rereadCgroupFile(int fd);
// The file open on `fd` read afresh from its start (pread at offset 0: the kernel regenerates a
// cgroup file's text for each read from 0), without the open and close of a lookup by path: for
// a file read on every call. `fd` is borrowed. nullopt: cannot be read.
uint64_t firstNumberIn(const std::string& text);  // the first number in it; 0 if none
uint64_t fieldIn(const std::string& text, const std::string& key);
// The number after "key " on a line of a flat keyed file's text; 0 if absent.
uint64_t readCgroupNumber(const std::string& path);  // the first number in it; 0 if none
uint64_t readCgroupField(const std::string& path, const std::string& key);
// The number after "key " on a line of a flat keyed file (cpu.stat, memory.events,
// memory.oom_control); 0 if absent.

std::string makeCgroupDir(const std::string& path);  // "" or "mkdir(PATH): errno"
void removeCgroupTree(const std::string& path);
// rmdir of every directory beneath and then `path`, deepest first; failures are logged (a
// group that still holds a process stays, and is removed by the next airlockd's start).
std::vector<std::string> cgroupChildren(const std::string& path);  // subdirectory names

}  // namespace airlock::broker::resources

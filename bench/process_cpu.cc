#include "bench/process_cpu.h"

#include <kj/debug.h>

#include <dirent.h>
#include <stdlib.h>

#include <fstream>
#include <string>

namespace airlock::bench {

ProcessCpu processCpuOf(pid_t pid) {
  ProcessCpu total;
  std::string taskDir = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(taskDir.c_str());
  if (dir == nullptr) return total;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream schedstat(taskDir + "/" + entry->d_name + "/schedstat");
    long long ran = 0;
    if (schedstat >> ran) total.cpuNanos += ran;
    std::ifstream status(taskDir + "/" + entry->d_name + "/status");
    std::string key;
    long value;
    while (status >> key) {
      if (key == "voluntary_ctxt_switches:" && status >> value) total.voluntary += value;
      if (key == "nonvoluntary_ctxt_switches:" && status >> value) total.involuntary += value;
    }
  }
  closedir(dir);
  return total;
}

std::vector<pid_t> childrenOf(pid_t parent) {
  std::vector<pid_t> children;
  DIR* proc = opendir("/proc");
  KJ_REQUIRE(proc != nullptr);
  while (dirent* entry = readdir(proc)) {
    pid_t pid = atoi(entry->d_name);
    if (pid <= 0) continue;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    pid_t ppid = 0;
    while (status >> key) {
      if (key == "PPid:") {
        status >> ppid;
        break;
      }
    }
    if (ppid == parent) children.push_back(pid);
  }
  closedir(proc);
  return children;
}

}  // namespace airlock::bench

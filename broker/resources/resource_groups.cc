#include "broker/resources/resource_groups.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <kj/debug.h>
#include <kj/io.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

#include "broker/resources/cgroup_files.h"
#include "broker/resources/cgroup_knobs.h"

namespace airlock::broker::resources {

namespace _ {
namespace {

// The controllers airlockd uses, and the ones it enables for its children under v2.
constexpr const char* V1_CONTROLLERS[] = {"memory", "cpu", "cpuacct", "pids", "blkio"};
constexpr const char* V2_CONTROLLERS[] = {"memory", "cpu", "pids", "io"};
constexpr char GROUP_PREFIX[] = "airlockd-";

// A group's directory in each hierarchy, by controller. Under v2 every controller names the
// same directory; under v1 co-mounted controllers (cpu,cpuacct) share one too.
struct Dirs {
  std::map<std::string, std::string> byController;

  std::set<std::string> distinct() const {
    std::set<std::string> out;
    for (auto& [controller, dir] : byController) out.insert(dir);
    return out;
  }
  Dirs child(const std::string& name) const {
    Dirs out;
    for (auto& [controller, dir] : byController) out.byController[controller] = dir + "/" + name;
    return out;
  }
  std::string of(const char* controller) const {
    auto found = byController.find(controller);
    return found == byController.end() ? "" : found->second;
  }
};

// Makes `dirs` (each distinct directory once); throws naming the first that fails, after
// removing the ones made.
void makeDirs(const Dirs& dirs) {
  std::vector<std::string> made;
  for (const std::string& dir : dirs.distinct()) {
    std::string error = makeCgroupDir(dir);
    if (!error.empty()) {
      for (auto& done : made) removeCgroupTree(done);
      KJ_FAIL_REQUIRE("cannot make a cgroup; run `airlock doctor`", error);
    }
    made.push_back(dir);
  }
}

// v2 only: a group's children get the controllers the group has (no-internal-process rule:
// the group itself must hold no process, which airlockd's own groups never do).
void enableForChildren(CgroupVersion version, const std::string& dir) {
  if (version != CgroupVersion::V2) return;
  for (const char* controller : V2_CONTROLLERS) {
    std::string error = writeCgroupFile(dir + "/cgroup.subtree_control",
                                        std::string("+") + controller);
    if (!error.empty()) spdlog::debug("cgroup {}: {}", dir, error);
  }
}

// The file holding a group's CPU time: "" where there is none (v1 without cpuacct).
std::string cpuUsagePath(CgroupVersion version, const Dirs& dirs) {
  if (version == CgroupVersion::V1) {
    std::string acct = dirs.of("cpuacct");
    return acct.empty() ? "" : acct + "/cpuacct.usage";
  }
  return *dirs.distinct().begin() + "/cpu.stat";
}

// The CPU time in microseconds in the text of cpuUsagePath's file.
uint64_t cpuMicrosIn(CgroupVersion version, const std::string& text) {
  if (version == CgroupVersion::V1) return firstNumberIn(text) / 1000;  // nanoseconds
  return fieldIn(text, "usage_usec");
}

uint64_t cpuMicrosOf(CgroupVersion version, const Dirs& dirs) {
  std::string path = cpuUsagePath(version, dirs);
  if (path.empty()) return 0;
  auto text = readCgroupFile(path);
  return text ? cpuMicrosIn(version, *text) : 0;
}

GroupUsage usageOf(CgroupVersion version, const Dirs& dirs) {
  GroupUsage usage;
  if (version == CgroupVersion::V1) {
    std::string memory = dirs.of("memory"), cpu = dirs.of("cpu"), acct = dirs.of("cpuacct");
    if (!memory.empty()) {
      usage.memoryBytes = readCgroupNumber(memory + "/memory.usage_in_bytes");
      usage.memoryPeakBytes = readCgroupNumber(memory + "/memory.max_usage_in_bytes");
      usage.oomKills = readCgroupField(memory + "/memory.oom_control", "oom_kill");
    }
    usage.cpuMicros = cpuMicrosOf(version, dirs);
    if (!cpu.empty()) {
      usage.throttledPeriods = readCgroupField(cpu + "/cpu.stat", "nr_throttled");
      usage.throttledMicros = readCgroupField(cpu + "/cpu.stat", "throttled_time") / 1000;
      usage.background = readCgroupNumber(cpu + "/" + CPU_IDLE_FILE) == 1;
    }
    return usage;
  }
  std::string dir = dirs.of("memory").empty() ? dirs.of("cpu") : dirs.of("memory");
  if (dir.empty()) return usage;
  usage.memoryBytes = readCgroupNumber(dir + "/memory.current");
  usage.memoryPeakBytes = readCgroupNumber(dir + "/memory.peak");
  usage.oomKills = readCgroupField(dir + "/memory.events", "oom_kill");
  // cpu.stat's usage_usec is there without the cpu controller; throttling needs it.
  usage.cpuMicros = cpuMicrosOf(version, dirs);
  usage.throttledPeriods = readCgroupField(dir + "/cpu.stat", "nr_throttled");
  usage.throttledMicros = readCgroupField(dir + "/cpu.stat", "throttled_usec");
  if (!dirs.of("cpu").empty()) {
    usage.background = readCgroupNumber(dirs.of("cpu") + "/" + CPU_IDLE_FILE) == 1;
  }
  return usage;
}

}  // namespace
}  // namespace _

void WorkerLeaf::explainExit(sandbox::ExitStatus& status) const {
  if (status.exited || status.signal != SIGKILL) return;
  GroupUsage used = usage();
  status.outOfMemory = used.oomKills > 0;
  status.memoryPeakBytes = used.memoryPeakBytes;
}

namespace _ {
namespace {

// The CPUs this process may run on: what "the machine" is to a derived CPU weight.
uint64_t cpusOfThisProcess() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return static_cast<uint64_t>(std::max(CPU_COUNT(&set), 1));
}

class Leaf final : public WorkerLeaf {
 public:
  Leaf(CgroupVersion version, Dirs dirs) : version_(version), dirs_(kj::mv(dirs)) {
    makeDirs(dirs_);
    KJ_ON_SCOPE_FAILURE(for (auto& dir : dirs_.distinct()) removeCgroupTree(dir));
    for (const std::string& dir : dirs_.distinct()) {
      std::string path = dir + (version_ == CgroupVersion::V1 ? "/cgroup.procs" : "");
      int flags = version_ == CgroupVersion::V1 ? O_WRONLY | O_CLOEXEC
                                                : O_RDONLY | O_DIRECTORY | O_CLOEXEC;
      int fd = open(path.c_str(), flags);
      if (fd < 0) {
        int err = errno;
        KJ_FAIL_REQUIRE("cannot open a worker's cgroup", path, strerrorname_np(err));
      }
      fds_.push_back(kj::AutoCloseFd(fd));
    }
    // Kept open: the CPU time is read twice per call (dispatch.cc), and a lookup by path would
    // add an open, a read of the end and a close to each, with the path walk through cgroupfs.
    std::string usage = cpuUsagePath(version_, dirs_);
    if (!usage.empty()) cpuUsage_ = kj::AutoCloseFd(open(usage.c_str(), O_RDONLY | O_CLOEXEC));
  }
  ~Leaf() noexcept(false) {
    cpuUsage_ = nullptr;
    fds_.clear();
    for (const std::string& dir : dirs_.distinct()) removeCgroupTree(dir);
  }

  void place(sandbox::CgroupPlacement& placement) const override {
    if (version_ == CgroupVersion::V2) {
      placement.cloneIntoFd = fds_.front().get();
      return;
    }
    for (const kj::AutoCloseFd& fd : fds_) placement.procsFds.push_back(fd.get());
  }
  GroupUsage usage() const override { return usageOf(version_, dirs_); }
  uint64_t cpuMicros() const override {
    if (cpuUsage_.get() < 0) return 0;  // no such file (v1 without cpuacct), as cpuMicrosOf
    auto text = rereadCgroupFile(cpuUsage_.get());
    return text ? cpuMicrosIn(version_, *text) : 0;
  }

 private:
  CgroupVersion version_;
  Dirs dirs_;
  std::vector<kj::AutoCloseFd> fds_;
  kj::AutoCloseFd cpuUsage_;  // cpuUsagePath's file; closed (-1) when it could not be opened
};

class Unit final : public UnitGroup {
 public:
  Unit(CgroupVersion version, Dirs dirs) : version_(version), dirs_(kj::mv(dirs)) {
    makeDirs(dirs_);
    enableForChildren(version_, *dirs_.distinct().begin());
    // v1: cpu_max_percent is a share of this period (cgroup_knobs.h).
    std::string cpu = dirs_.of("cpu");
    if (version_ == CgroupVersion::V1 && !cpu.empty()) {
      std::string error =
          writeCgroupFile(cpu + "/cpu.cfs_period_us", std::to_string(CPU_PERIOD_US));
      if (!error.empty()) spdlog::warn("cgroup {}: {}", cpu, error);
    }
  }
  ~Unit() noexcept(false) {
    for (const std::string& dir : dirs_.distinct()) removeCgroupTree(dir);
  }

  std::vector<std::string> apply(const policy::UnitResources& resources) override {
    std::vector<std::string> refused;
    // Out of the idle class first: the kernel refuses a weight for a group in it (EINVAL).
    std::string cpu = dirs_.of("cpu");
    std::string idle = cpu.empty() ? "" : cpu + "/" + CPU_IDLE_FILE;
    if (!idle.empty() && access(idle.c_str(), F_OK) != 0) idle.clear();  // before Linux 5.15
    if (!idle.empty()) {
      std::string error = writeCgroupFile(idle, "0");
      if (!error.empty()) spdlog::warn("cgroup {}: cannot leave the idle class: {}", idle, error);
    }
    for (const policy::ResourceKeyRow& row : policy::resourceKeyRows()) {
      const CgroupKnob& knob = knobOf(row.key);
      uint64_t value = resources.get(row.key);
      // cpu_weight unset under a cpu_max_percent: derived from the cap (cgroup_knobs.h). Only
      // the cap is the policy's: a weight that cannot be written is said, not refused.
      bool derived = row.key == policy::ResourceKey::CPU_WEIGHT && value == 0 &&
                     resources.isSet(policy::ResourceKey::CPU_MAX_PERCENT);
      if (derived) value = cpuWeightFor(resources, cpusOfThisProcess());
      std::string dir = dirs_.of(knob.controller(version_));
      std::string setting = std::string(row.name) + " = " + std::to_string(value) +
                            (derived ? " (derived from cpu_max_percent)" : "");
      if (dir.empty()) {
        if (value != 0 && !derived) {
          refused.push_back(setting + ": the " + knob.controller(version_) + " controller (" +
                            knob.file(version_) + ") is not available to airlockd under " +
                            cgroupVersionName(version_));
        }
        continue;
      }
      std::string path = dir + "/" + knob.file(version_);
      if (value == 0 && access(path.c_str(), F_OK) != 0) continue;  // nothing to undo
      std::string error = writeCgroupFile(path, knob.value(version_, value));
      if (error.empty()) continue;
      if (value != 0 && !derived) {
        refused.push_back(setting + ": the " + knob.controller(version_) +
                          " controller cannot enforce it here: " + error);
      } else if (derived) {
        spdlog::warn("cgroup {}: cannot write {}: {}", dir, setting, error);
      } else {
        // Still the old, stricter limit: nothing is weaker for it.
        spdlog::warn("cgroup {}: cannot lift {}: {}", dir, row.name, error);
      }
    }
    // Derived, like the weight: where the kernel has no idle class the derived weight stands.
    if (runsInBackground(resources) && !cpu.empty()) {
      std::string error = idle.empty() ? "no cpu.idle (Linux 5.15+)" : writeCgroupFile(idle, "1");
      if (!error.empty()) {
        spdlog::warn("cgroup {}: the capped unit competes at its derived weight, not in the "
                     "background: {}", cpu, error);
      }
    }
    return refused;
  }

  kj::Own<WorkerLeaf> newLeaf() override {
    return kj::refcounted<Leaf>(version_, dirs_.child("worker-" + std::to_string(nextLeaf_++)));
  }
  GroupUsage usage() const override { return usageOf(version_, dirs_); }

 private:
  CgroupVersion version_;
  Dirs dirs_;
  uint64_t nextLeaf_ = 1;
};

// True if the group "airlockd-<pid>" belongs to an airlockd that no longer runs.
bool isStale(const std::string& name, pid_t self) {
  if (!name.starts_with(GROUP_PREFIX)) return false;
  std::string digits = name.substr(sizeof(GROUP_PREFIX) - 1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  pid_t pid = static_cast<pid_t>(std::stol(digits));
  if (pid == self) return true;  // a previous airlockd with our pid (a container restart)
  // A live process with that pid is taken for the airlockd that made the group, whatever its
  // name: removing a live broker's groups takes the leaves its next workers were to start in,
  // while a dead broker's group kept because its pid was recycled is only an empty directory,
  // removed by a start after that process has gone.
  return kill(pid, 0) != 0 && errno == ESRCH;
}

class Groups final : public ResourceGroups {
 public:
  Groups(CgroupVersion version, Dirs started, pid_t self) : version_(version) {
    for (const std::string& dir : started.distinct()) {
      for (const std::string& name : cgroupChildren(dir)) {
        if (!isStale(name, self)) continue;
        spdlog::info("cgroup {}/{}: left by an airlockd that no longer runs; removing it", dir,
                     name);
        removeCgroupTree(dir + "/" + name);
      }
    }
    base_ = started.child(GROUP_PREFIX + std::to_string(self));
    makeDirs(base_);
    if (version_ == CgroupVersion::V2) moveSelfToLeaf(started);
  }
  ~Groups() noexcept(false) {
    // Under v2 airlockd itself is in base_/daemon until it exits: what stays is removed by the
    // next start.
    for (const std::string& dir : base_.distinct()) removeCgroupTree(dir);
  }

  CgroupVersion version() const override { return version_; }
  kj::Own<UnitGroup> unitGroup(const std::string& unitName) override {
    return kj::heap<Unit>(version_, base_.child(unitName + "." + std::to_string(nextUnit_++)));
  }
  std::string describe() const override {
    std::string out = cgroupVersionName(version_);
    for (auto& [controller, dir] : base_.byController) {
      out += (out.size() == 9 ? ": " : ", ") + controller + " " + dir;
    }
    return out;
  }

 private:
  // The no-internal-process rule: a v2 group whose children have controllers holds no process.
  // airlockd moves itself to a leaf of its own group, then enables the controllers on the way
  // down (the group it was started in holds only airlockd under systemd's Delegate=yes).
  void moveSelfToLeaf(const Dirs& started) {
    Dirs daemon = base_.child("daemon");
    makeDirs(daemon);
    // "0": the writing process, with all its threads.
    std::string error = writeCgroupFile(*daemon.distinct().begin() + "/cgroup.procs", "0");
    KJ_REQUIRE(error.empty(), "cannot move airlockd into its own cgroup leaf", error);
    enableForChildren(version_, *started.distinct().begin());
    enableForChildren(version_, *base_.distinct().begin());
  }

  CgroupVersion version_;
  Dirs base_;
  uint64_t nextUnit_ = 1;
};

}  // namespace
}  // namespace _

kj::Own<ResourceGroups> openResourceGroups(const CgroupPlaces& places, pid_t self) {
  _::Dirs v2, v1;
  for (const char* controller : _::V2_CONTROLLERS) {
    if (places.v2Controllers.count(controller)) v2.byController[controller] = places.v2;
  }
  for (const char* controller : _::V1_CONTROLLERS) {
    auto found = places.v1.find(controller);
    if (found != places.v1.end()) v1.byController[controller] = found->second;
  }
  CgroupVersion version = !v2.byController.empty() ? CgroupVersion::V2 : CgroupVersion::V1;
  _::Dirs& chosen = version == CgroupVersion::V2 ? v2 : v1;
  if (chosen.byController.empty()) {
    spdlog::warn("resources: no cgroup controller is available to airlockd (cgroup v2 at \"{}\" "
                 "offers none, no v1 controller is mounted); [resources] limits cannot be "
                 "enforced; run `airlock doctor`", places.v2);
    return kj::Own<ResourceGroups>();
  }
  kj::Own<ResourceGroups> groups;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    groups = kj::heap<_::Groups>(version, chosen, self);
  })) {
    spdlog::warn("resources: {} cannot be used: {}; [resources] limits cannot be enforced",
                 cgroupVersionName(version), exception->getDescription().cStr());
    return kj::Own<ResourceGroups>();
  }
  spdlog::info("resources: {}", groups->describe());
  return groups;
}

}  // namespace airlock::broker::resources

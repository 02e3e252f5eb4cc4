#pragma once
// Where this process sits in the cgroup hierarchies: the kernel's /proc/self/cgroup and
// /proc/self/mountinfo, read once when airlockd starts. airlockd makes its groups beneath these
// directories and nowhere else. Pure parsers plus one reader.

#include <map>
#include <set>
#include <string>
#include <string_view>

namespace airlock::broker::resources {

// /proc/self/cgroup ("4:memory:/process_api/x", "0::/"): each v1 controller, and "" for the v2
// hierarchy, to the path of this process's cgroup in it. Named hierarchies ("name=systemd") are
// left out. Lines that do not parse are skipped: the file is the kernel's, not a user's.
std::map<std::string, std::string> parseProcCgroup(std::string_view text);

// The cgroup file systems of /proc/self/mountinfo: each v1 controller (from the super options,
// "rw,cpu,cpuacct") and "" for cgroup2, to its mount point and the root of the hierarchy the
// mount shows. The first mount of each wins.
struct CgroupMount {
  std::string mountPoint;
  std::string root;  // "/" unless a subtree was mounted
};
std::map<std::string, CgroupMount> parseCgroupMounts(std::string_view mountinfo);

// This process's cgroup directory in each hierarchy it can reach.
struct CgroupPlaces {
  std::map<std::string, std::string> v1;  // controller -> directory (mount point + path)
  std::string v2;                         // directory in the v2 hierarchy; empty: not mounted
  std::set<std::string> v2Controllers;    // what that directory's cgroup.controllers offers
};
CgroupPlaces placesOf(const std::map<std::string, std::string>& procCgroup,
                      const std::map<std::string, CgroupMount>& mounts);

CgroupPlaces discoverCgroupPlaces();  // reads the two /proc files and cgroup.controllers

}  // namespace airlock::broker::resources

#pragma once
// A real ENOSPC for the audit log's record-before-acting tests.

#include <sys/mount.h>
#include <sys/stat.h>

#include <string>

#include "tests/integration/support/broker_process.h"

namespace airlock::testing {

// A tmpfs of 64 KiB holding only the audit log: the real ENOSPC, soon.
class SmallDisk {
 public:
  SmallDisk() {
    mkdir(dir_.file("disk").c_str(), 0755);
    mounted_ = mount("tmpfs", dir_.file("disk").c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                     "size=64k,mode=0755") == 0;
  }
  ~SmallDisk() {
    if (mounted_) umount2(dir_.file("disk").c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  std::string file(const std::string& name) const { return dir_.file("disk/" + name); }

 private:
  TempDir dir_;
  bool mounted_ = false;
};

}  // namespace airlock::testing

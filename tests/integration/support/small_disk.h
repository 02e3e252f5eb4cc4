#pragma once
// A real ENOSPC for the audit log's record-before-acting tests.

#include <sys/mount.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "sdk/host/client.h"
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

  // Fills the disk, then the slack of the log's last page with calls `broker` refuses (each
  // writes a record at once, no worker involved) until the log fails. True once a call was
  // refused as an internal error: the log can record nothing more.
  bool fillUntilTheLogFails(const BrokerProcess& broker) const {
    {
      std::ofstream filler(file("filler"), std::ios::binary);
      std::string block(4096, 'f');
      while (filler.write(block.data(), block.size())) {
      }
    }
    auto client = broker.connect();
    for (int i = 0; i < 200; ++i) {
      if (client.unit("ghost").call("x", "").errorKind() == CallErrorKind::INTERNAL) return true;
    }
    return false;
  }

 private:
  TempDir dir_;
  bool mounted_ = false;
};

}  // namespace airlock::testing

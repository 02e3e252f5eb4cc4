#pragma once
// Test helper: a fresh temporary directory for policy files and fake workers, removed at the end.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace airlock::policy::testing {

class TempPolicyDir {
 public:
  TempPolicyDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "airlock-policy-XXXXXX").string();
    char* made = ::mkdtemp(templ.data());
    EXPECT_NE(made, nullptr);
    path_ = templ;
  }
  ~TempPolicyDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempPolicyDir(const TempPolicyDir&) = delete;
  TempPolicyDir& operator=(const TempPolicyDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes `name` (relative to the dir) and returns its full path.
  std::string write(const std::string& name, const std::string& text) const {
    std::string full = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(full).parent_path());
    std::ofstream(full, std::ios::binary) << text;
    return full;
  }

  // Writes an executable (or not) file standing in for a worker.
  std::string writeWorker(const std::string& name, mode_t mode = 0755) const {
    std::string full = write(name, "#!/bin/sh\n");
    ::chmod(full.c_str(), mode);
    return full;
  }

 private:
  std::string path_;
};

}  // namespace airlock::policy::testing

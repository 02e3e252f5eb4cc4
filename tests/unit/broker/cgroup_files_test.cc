// Reading cgroup-style files through a descriptor kept open (a worker's CPU time, read twice per
// call): each read starts again from the beginning, whatever the descriptor's offset, and returns
// the file's text as it is now. A regular file stands in for the cgroup file (a test has no
// cgroup of its own to read); resources_test.cc reads a real leaf's cpu_us.

#include "broker/resources/cgroup_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <kj/debug.h>
#include <kj/io.h>

#include <string>

namespace airlock::broker::resources {
namespace {

class CgroupFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/airlock-cgroup-files-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
  }
  void TearDown() override { unlink(path_.c_str()); }

  kj::AutoCloseFd open(int flags) const {
    int fd = ::open(path_.c_str(), flags | O_CLOEXEC);
    KJ_SYSCALL(fd, path_);
    return kj::AutoCloseFd(fd);
  }

  // Replaces the file's text in place (the same inode), as the kernel does between two reads of
  // a cgroup file.
  void setText(const std::string& text) const {
    auto fd = open(O_WRONLY | O_TRUNC);
    ASSERT_EQ(write(fd.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

  std::string path_;
};

TEST_F(CgroupFilesTest, EachRereadReturnsTheWholeTextAsItIsNowFromTheStart) {
  setText("182560666\n");
  auto fd = open(O_RDONLY);
  EXPECT_EQ(rereadCgroupFile(fd.get()), std::optional<std::string>("182560666\n"));
  // A read through the descriptor's own offset does not move where the next reread starts.
  char skipped[4];
  ASSERT_EQ(read(fd.get(), skipped, sizeof(skipped)), 4);
  setText("184112539\n");
  auto text = rereadCgroupFile(fd.get());
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(firstNumberIn(*text), 184112539u);
  EXPECT_EQ(readCgroupNumber(path_), 184112539u);
}

TEST_F(CgroupFilesTest, ATextLongerThanOneReadComesWhole) {
  std::string text;
  for (int i = 0; text.size() < 10000; ++i) {
    text += "key" + std::to_string(i) + " " + std::to_string(i) + "\n";
  }
  text += "usage_usec 777\n";
  setText(text);
  auto fd = open(O_RDONLY);
  auto reread = rereadCgroupFile(fd.get());
  ASSERT_TRUE(reread.has_value());
  EXPECT_EQ(*reread, text);
  EXPECT_EQ(fieldIn(*reread, "usage_usec"), 777u);
  EXPECT_EQ(fieldIn(*reread, "key3"), 3u);
  EXPECT_EQ(fieldIn(*reread, "absent"), 0u);
  EXPECT_EQ(readCgroupField(path_, "usage_usec"), 777u);
}

TEST_F(CgroupFilesTest, ADescriptorThatCannotBeReadIsNoText) {
  auto writeOnly = open(O_WRONLY);
  EXPECT_FALSE(rereadCgroupFile(writeOnly.get()).has_value());
  EXPECT_EQ(firstNumberIn(""), 0u);
}

}  // namespace
}  // namespace airlock::broker::resources

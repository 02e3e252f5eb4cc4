// checkMovedLinks on a real temporary tree: which links a rename would move, at which depth they
// are checked, and the walk's bound.

#include "broker/caps/moved_links.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace airlock::broker {
namespace {

class MovedLinksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/airlock-moved-links-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string at(const std::string& relative) const { return root_ + "/" + relative; }

  void makeDirs(const std::string& relative) {
    std::filesystem::create_directories(at(relative));
  }
  void link(const std::string& target, const std::string& relative) {
    makeDirs(std::filesystem::path(relative).parent_path());
    ASSERT_EQ(symlink(target.c_str(), at(relative).c_str()), 0) << relative;
  }

  // checkMovedLinks for a rename of `from` to `to`, both relative to the root. (The root's fd is
  // opened per check: kj::AutoCloseFd's destructor may throw, which a fixture member may not.)
  MovedLinks check(const std::string& from, const std::string& to) {
    int fd = open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    EXPECT_GE(fd, 0) << root_;
    kj::AutoCloseFd rootFd(fd);
    ParentDir source = openParentBeneath(rootFd.get(), from);
    EXPECT_TRUE(source.outcome.ok()) << source.outcome.message;
    return checkMovedLinks(source, root_, at(from), at(to));
  }

  std::string root_;
};

TEST_F(MovedLinksTest, ALinkIsCheckedAtTheDepthItWouldBeMovedTo) {
  link("../../x", "a/b/l");
  EXPECT_TRUE(check("a/b/l", "c/d/l").clear()) << "sideways";
  EXPECT_TRUE(check("a/b/l", "c/d/e/l").clear()) << "deeper";
  MovedLinks closer = check("a/b/l", "c/l");
  EXPECT_TRUE(closer.outcome.ok());
  std::string expected = "at " + at("c/l") + ", the symlink target \"../../x\" climbs above " +
                         root_ + ", the root of the rule that allows the rename";
  EXPECT_NE(closer.refusal.why().find(expected), std::string::npos) << closer.refusal.why();
  link("/etc/passwd", "abs");
  EXPECT_NE(check("abs", "a/abs").refusal.why().find("absolute"), std::string::npos)
      << "a link the broker would not make is moved nowhere, even deeper";
}

TEST_F(MovedLinksTest, ADirectoryMovedCloserIsWalkedAndEveryLinkBeneathItCheckedAfterTheMove) {
  link("../x", "a/b/safe");                       // a/x; from b/safe after the move: x
  link("../../../../../../x", "a/b/c/d/e/f/deep");  // the root's x, until one level closer
  std::ofstream(at("a/b/c/file")) << "f";
  MovedLinks moved = check("a/b", "b");
  EXPECT_TRUE(moved.outcome.ok()) << moved.outcome.message;
  EXPECT_NE(moved.refusal.why().find("at " + at("b/c/d/e/f/deep") + ","), std::string::npos)
      << moved.refusal.why();
  EXPECT_TRUE(check("a/b", "g/h/b").clear()) << "deeper: no walk needed";
  EXPECT_TRUE(check("a/b", "g/b").clear()) << "sideways: no walk needed";

  ASSERT_EQ(unlink(at("a/b/c/d/e/f/deep").c_str()), 0);
  EXPECT_TRUE(check("a/b", "b").clear()) << check("a/b", "b").refusal.why();
}

TEST_F(MovedLinksTest, AFileOrAMissingSourceIsNotAFindingOfTheCheck) {
  makeDirs("a");
  std::ofstream(at("a/f")) << "f";
  EXPECT_TRUE(check("a/f", "f").clear());
  MovedLinks missing = check("a/none", "none");
  EXPECT_EQ(missing.outcome.error, ENOENT);
  EXPECT_FALSE(missing.refusal);
}

TEST_F(MovedLinksTest, ATreePastTheBoundIsRefusedAndOneAtItIsWalked) {
  makeDirs("a/big/sub");
  // MAX_MOVED_ENTRIES counts every entry, directories included: sub and what is in it.
  for (size_t i = 0; i + 1 < MAX_MOVED_ENTRIES; ++i) {
    std::ofstream(at("a/big/sub/" + std::to_string(i)));
  }
  EXPECT_TRUE(check("a/big", "big").clear()) << check("a/big", "big").refusal.why();
  std::ofstream(at("a/big/one-more"));
  MovedLinks past = check("a/big", "big");
  EXPECT_NE(past.refusal.why().find("more than " + std::to_string(MAX_MOVED_ENTRIES) + " entries"),
            std::string::npos)
      << past.refusal.why();
}

}  // namespace
}  // namespace airlock::broker

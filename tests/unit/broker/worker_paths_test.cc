// Where a brokered syscall's path points (broker/syscalls/worker_paths.h) and how it is copied
// out of a thread (worker_memory.h): the decisions transparent brokering starts from.

#include <gtest/gtest.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "broker/syscalls/worker_memory.h"
#include "broker/syscalls/worker_paths.h"

namespace airlock::broker::syscalls {
namespace {

TEST(WorkerPathsTest, PathsAreMadeAbsoluteAndLexicallyNormal) {
  EXPECT_EQ(absoluteNormal("/srv/data", "a.txt"), "/srv/data/a.txt");
  EXPECT_EQ(absoluteNormal("/srv/data", "./sub//b.txt/"), "/srv/data/sub/b.txt");
  EXPECT_EQ(absoluteNormal("/srv/data", "../secret"), "/srv/secret");
  EXPECT_EQ(absoluteNormal("/srv/data", "/etc/../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(absoluteNormal("/", "../../.."), "/");  // as the kernel: .. of / is /
  EXPECT_EQ(absoluteNormal("/srv", "."), "/srv");
}

TEST(WorkerPathsTest, AtOrBeneathMeansWholeComponents) {
  EXPECT_TRUE(isAtOrBeneath("/srv/data", "/srv/data"));
  EXPECT_TRUE(isAtOrBeneath("/srv/data/x", "/srv/data"));
  EXPECT_FALSE(isAtOrBeneath("/srv/database", "/srv/data"));
  EXPECT_FALSE(isAtOrBeneath("/srv", "/srv/data"));
  EXPECT_TRUE(isAtOrBeneath("/anything", "/"));
}

TEST(WorkerPathsTest, TheViewShowsWhatIsBoundAndTheSkeletonAboveItButNotBesideAnEmptyDirectory) {
  sandbox::SandboxSpec spec;
  spec.program = "/bin/true";
  spec.workingDirectory = "/srv/work";
  spec.emptyDirectories = {"/srv/data"};
  SandboxView view = SandboxView::of(spec);
  std::string program = "/usr/bin/true";  // /bin/true, canonical
  EXPECT_TRUE(view.shows(program));
  EXPECT_TRUE(view.shows("/usr/bin/pyvenv.cfg"));  // a name next to a bound file: ENOENT there
  EXPECT_TRUE(view.shows("/dev/null"));
  EXPECT_TRUE(view.shows("/srv/work"));
  EXPECT_TRUE(view.shows("/srv"));
  EXPECT_TRUE(view.shows("/srv/data"));
  EXPECT_FALSE(view.shows("/srv/work/notes.txt"));  // next to the working directory: the rules'
  EXPECT_FALSE(view.shows("/srv/other"));
  EXPECT_FALSE(view.shows("/etc/passwd"));
}

TEST(WorkerMemoryTest, APathIsCopiedUpToItsNulEvenAcrossAPageAndBoundedByPathMax) {
  std::string path = "/srv/data/" + std::string(5000, 'a');
  path[PATH_MAX - 1] = '\0';
  std::string out;
  int error = 0;
  ASSERT_TRUE(readPath(getpid(), reinterpret_cast<uint64_t>(path.c_str()), out, error));
  EXPECT_EQ(out.size(), static_cast<size_t>(PATH_MAX - 1));
  std::string unterminated(2 * PATH_MAX, 'b');
  EXPECT_FALSE(readPath(getpid(), reinterpret_cast<uint64_t>(unterminated.data()), out, error));
  EXPECT_EQ(error, ENAMETOOLONG);
  EXPECT_FALSE(readPath(getpid(), 0, out, error));
  EXPECT_EQ(error, EFAULT);
  EXPECT_FALSE(readPath(getpid(), 8, out, error));  // unmapped
  EXPECT_EQ(error, EFAULT);
}

TEST(WorkerMemoryTest, BytesAreWrittenWholeOrNotAtAll) {
  char target[8] = {};
  int error = 0;
  ASSERT_TRUE(writeBytes(getpid(), reinterpret_cast<uint64_t>(target), "abcdefg", 8, error));
  EXPECT_STREQ(target, "abcdefg");
  EXPECT_FALSE(writeBytes(getpid(), 8, "x", 1, error));
  EXPECT_EQ(error, EFAULT);
}

}  // namespace
}  // namespace airlock::broker::syscalls

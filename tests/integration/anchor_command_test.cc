// The anchor command runner and its delivery thread with real /bin/sh processes (so in the
// integration tier): what counts as delivered, how failures and hangs end, that a run leaves no
// child or fd behind, and that checkpoints a failed run did not deliver go to the next run.

#include <dirent.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "audit/anchor_command.h"
#include "audit/anchor_delivery.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

using audit::AnchorCommand;
using audit::AnchorDelivery;
using audit::AnchorOutcome;

// Deadlines only end hung commands; no test waits for one unless it is about a hang.
constexpr std::chrono::milliseconds GENEROUS{60000};
constexpr std::chrono::milliseconds SHORT{300};
// Long enough for a shell to start a child and say so; the test still ends at the deadline.
constexpr std::chrono::milliseconds FEW_SECONDS{3000};
// Far more than a socket buffer holds, so a command that does not read cannot take it all.
const std::string MORE_THAN_A_SOCKET_BUFFER(8 << 20, 'x');

size_t openFds() {
  size_t count = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (readdir(dir) != nullptr) ++count;
  closedir(dir);
  return count;
}

bool hasUnreapedChild() {
  siginfo_t info = {};
  return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
}

// Dead: gone, or a zombie waiting for whoever inherited it.
bool processIsDead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
}

AnchorOutcome runOnce(const std::string& command, const std::string& input,
                      std::chrono::milliseconds deadline = GENEROUS) {
  AnchorCommand anchor(command, deadline);
  return anchor.run(input.data(), input.size());
}

TEST(AnchorCommandTest, ACommandReadingItsStdinGetsEveryByteAndIsDelivered) {
  TempDir dir;
  std::string lines = "{\"seq\":4,\"event\":\"checkpoint\"}\n{\"seq\":9,\"event\":\"checkpoint\"}\n";
  auto outcome = runOnce("cat > '" + dir.file("anchor") + "'", lines);
  EXPECT_EQ(outcome.kind, AnchorOutcome::Kind::DELIVERED);
  EXPECT_EQ(outcome.bytesWritten, lines.size());
  EXPECT_EQ(readFile(dir.file("anchor")), lines);
}

TEST(AnchorCommandTest, ANonZeroExitIsAFailureWithItsStatus) {
  auto outcome = runOnce("cat > /dev/null; exit 3", "line\n");
  EXPECT_EQ(outcome.kind, AnchorOutcome::Kind::EXITED);
  EXPECT_EQ(outcome.status, 3);
  char text[160];
  audit::describeAnchorOutcome(outcome, GENEROUS, text, sizeof(text));
  EXPECT_STREQ(text, "exited with status 3");
}

TEST(AnchorCommandTest, AMissingProgramIsAFailureNotADelivery) {
  auto outcome = runOnce("/nonexistent/anchor-tool", "line\n");
  EXPECT_EQ(outcome.kind, AnchorOutcome::Kind::EXITED);
  EXPECT_EQ(outcome.status, 127);  // the shell's "command not found"
}

TEST(AnchorCommandTest, ACommandHangingPastTheDeadlineIsKilledWithWhatItStarted) {
  TempDir dir;
  // The shell reads everything, then waits on a child of its own: both must die.
  auto outcome = runOnce("cat > /dev/null; sleep 600 & echo $! > '" + dir.file("pid") +
                             "'; wait", "line\n", FEW_SECONDS);
  EXPECT_EQ(outcome.kind, AnchorOutcome::Kind::TIMED_OUT);
  EXPECT_EQ(outcome.status, SIGKILL);
  EXPECT_EQ(outcome.bytesWritten, 5u);
  EXPECT_FALSE(hasUnreapedChild());
  std::string written = readFile(dir.file("pid"));
  ASSERT_FALSE(written.empty()) << "the shell did not get to start its child";
  pid_t grandchild = std::stoi(written);
  while (!processIsDead(grandchild)) std::this_thread::yield();  // SIGKILL is already sent
}

TEST(AnchorCommandTest, ACommandThatNeverReadsItsStdinIsKilledAtTheDeadline) {
  auto outcome = runOnce("exec sleep 600", MORE_THAN_A_SOCKET_BUFFER, SHORT);
  EXPECT_EQ(outcome.kind, AnchorOutcome::Kind::TIMED_OUT);
  EXPECT_LT(outcome.bytesWritten, outcome.bytesOffered);
  EXPECT_FALSE(hasUnreapedChild());
}

TEST(AnchorCommandTest, ACommandExitingZeroWithoutReadingItsStdinHasNotDelivered) {
  auto outcome = runOnce("exec 0<&-; exit 0", MORE_THAN_A_SOCKET_BUFFER);
  EXPECT_EQ(outcome.kind, AnchorOutcome::Kind::STDIN_CLOSED);
  EXPECT_LT(outcome.bytesWritten, outcome.bytesOffered);
}

TEST(AnchorCommandTest, RunsLeaveNoChildAndNoFdBehind) {
  AnchorCommand ok("cat > /dev/null", GENEROUS);
  AnchorCommand failing("exit 1", GENEROUS);
  AnchorCommand hanging("exec sleep 600", SHORT);
  size_t before = openFds();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(ok.run("a\n", 2).delivered());
    EXPECT_FALSE(failing.run("a\n", 2).delivered());
  }
  EXPECT_EQ(hanging.run("a\n", 2).kind, AnchorOutcome::Kind::TIMED_OUT);
  EXPECT_EQ(openFds(), before);
  EXPECT_FALSE(hasUnreapedChild());
}

void waitReadable(int fd) {
  struct pollfd readable = {fd, POLLIN, 0};
  ASSERT_EQ(poll(&readable, 1, -1), 1);
}

TEST(AnchorDeliveryTest, CheckpointsAFailedRunDidNotDeliverAreHandedToTheNextRun) {
  TempDir dir;
  std::string failFlag = dir.file("fail"), anchor = dir.file("anchor");
  dir.write("fail", "");
  std::string command = "if [ -e '" + failFlag + "' ]; then cat > /dev/null; exit 1; fi; cat >> '" +
                        anchor + "'";
  std::string first = "{\"seq\":5,\"event\":\"checkpoint\"}";
  std::string second = "{\"seq\":11,\"event\":\"checkpoint\"}";
  AnchorDelivery delivery(command, GENEROUS);

  delivery.submit(first);
  waitReadable(delivery.failuresReadyFd());
  auto failures = delivery.takeFailures();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].firstSeq, 5u);
  EXPECT_EQ(failures[0].lastSeq, 5u);
  EXPECT_EQ(failures[0].checkpoints, 1u);
  EXPECT_EQ(failures[0].outcome.kind, AnchorOutcome::Kind::EXITED);

  unlink(failFlag.c_str());
  delivery.submit(second);
  delivery.finish();
  EXPECT_TRUE(delivery.takeFailures().empty());
  EXPECT_EQ(readFile(anchor), first + "\n" + second + "\n");
}

TEST(AnchorDeliveryTest, FinishDeliversWhatWasSubmittedLast) {
  TempDir dir;
  AnchorDelivery delivery("cat >> '" + dir.file("anchor") + "'", GENEROUS);
  delivery.submit("{\"seq\":1,\"event\":\"checkpoint\"}");
  delivery.submit("{\"seq\":2,\"event\":\"checkpoint\",\"closing\":true}");
  delivery.finish();
  EXPECT_EQ(readFile(dir.file("anchor")),
            "{\"seq\":1,\"event\":\"checkpoint\"}\n{\"seq\":2,\"event\":\"checkpoint\",\"closing\":true}\n");
}

}  // namespace
}  // namespace airlock::testing

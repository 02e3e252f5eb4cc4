#include "broker/supervisor/unread_budget.h"

#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <kj/exception.h>

namespace airlock::broker {
namespace {

constexpr size_t BUDGET = UnreadBudget::MAX_BYTES_READ_WHILE_PEER_NOT_READING;

// The stream a budget shuts when it is spent: one end of a socketpair, whose other end then
// reads end-of-stream.
struct Peer {
  Peer() : io(kj::setupAsyncIo()) {
    auto pipe = io.provider->newTwoWayPipe();
    broker = kj::mv(pipe.ends[0]);
    peer = kj::mv(pipe.ends[1]);
  }
  kj::AsyncIoContext io;
  kj::Own<kj::AsyncIoStream> broker, peer;
};

TEST(UnreadBudget, ReadsCostNothingWhileNoWriteIsStuck) {
  Peer p;
  UnreadBudget budget("test peer");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(budget.onRead(BUDGET, *p.broker), BUDGET);
}

TEST(UnreadBudget, ReadingPastTheBudgetWhileAWriteIsStuckEndsTheConnection) {
  Peer p;
  UnreadBudget budget("test peer");
  auto stuck = kj::newPromiseAndFulfiller<void>();
  auto write = budget.track(kj::mv(stuck.promise));
  EXPECT_EQ(budget.onRead(BUDGET, *p.broker), BUDGET);
  EXPECT_THROW(budget.onRead(1, *p.broker), kj::Exception);
  char byte;
  EXPECT_EQ(p.peer->tryRead(&byte, 1, 1).wait(p.io.waitScope), 0u)
      << "the peer sees the end of the stream";
}

TEST(UnreadBudget, ManySmallReadsWhileAWriteIsStuckEndTheConnectionToo) {
  Peer p;
  UnreadBudget budget("test peer");
  auto stuck = kj::newPromiseAndFulfiller<void>();
  auto write = budget.track(kj::mv(stuck.promise));
  for (size_t i = 0; i < UnreadBudget::MAX_READS_WHILE_PEER_NOT_READING; ++i) {
    budget.onRead(8, *p.broker);
  }
  EXPECT_THROW(budget.onRead(8, *p.broker), kj::Exception);
}

TEST(UnreadBudget, AWriteThatCompletesStartsTheCountAgain) {
  Peer p;
  UnreadBudget budget("test peer");
  auto first = kj::newPromiseAndFulfiller<void>();
  auto write = budget.track(kj::mv(first.promise));
  budget.onRead(BUDGET, *p.broker);
  first.fulfiller->fulfill();
  write.wait(p.io.waitScope);
  auto second = kj::newPromiseAndFulfiller<void>();
  auto next = budget.track(kj::mv(second.promise));
  EXPECT_EQ(budget.onRead(BUDGET, *p.broker), BUDGET);
}

}  // namespace
}  // namespace airlock::broker

// SeqIndex: first positions win, dense and far-away seqs are both found, and sortedSeqs lists
// each seq once.

#include "audit/seq_index.h"

#include <gtest/gtest.h>
#include <kj/debug.h>

namespace airlock::audit {
namespace {

TEST(SeqIndex, RemembersWhereEachSeqFirstAppearedNearOrFar) {
  SeqIndex index;
  for (uint64_t seq = 5; seq < 10005; ++seq) EXPECT_EQ(index.add(seq, seq * 2), nullptr);
  EXPECT_EQ(index.add(1000000000000000000u, 7), nullptr) << "far away: no giant allocation";
  EXPECT_EQ(index.add(2, 9), nullptr) << "below the first seq";
  EXPECT_EQ(KJ_ASSERT_NONNULL(index.add(77, 1)), 154u) << "the first position is kept";
  EXPECT_EQ(KJ_ASSERT_NONNULL(index.positionOf(1000000000000000000u)), 7u);
  EXPECT_EQ(KJ_ASSERT_NONNULL(index.positionOf(2)), 9u);
  EXPECT_EQ(index.positionOf(3), nullptr);
  EXPECT_EQ(index.positionOf(10005), nullptr);
  auto seqs = index.sortedSeqs();
  ASSERT_EQ(seqs.size(), 10002u);
  EXPECT_EQ(seqs.front(), 2u);
  EXPECT_EQ(seqs[1], 5u);
  EXPECT_EQ(seqs.back(), 1000000000000000000u);
}

}  // namespace
}  // namespace airlock::audit

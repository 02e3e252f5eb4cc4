// Where a link's target leads from its depth beneath a root: the check fs.symlink makes before
// a link exists, and fs.rename makes again at the depth a link would be moved to.

#include "broker/policy/model/symlink_target.h"

#include <gtest/gtest.h>

#include <vector>

namespace airlock::policy {
namespace {

TEST(SymlinkDepthTest, TheDepthCountsTheDirectoriesBetweenTheRootAndTheLinksDirectory) {
  EXPECT_EQ(depthBeneath("/srv/out", "/srv/out/l"), 0);
  EXPECT_EQ(depthBeneath("/srv/out", "/srv/out/a/l"), 1);
  EXPECT_EQ(depthBeneath("/srv/out", "/srv/out/a/b/c/l"), 3);
  EXPECT_EQ(depthBeneath("/srv/out", "/srv/out"), -1) << "the root itself";
  EXPECT_EQ(depthBeneath("/", "/l"), 0);
  EXPECT_EQ(depthBeneath("/", "/a/l"), 1);
  EXPECT_EQ(depthBeneath("/", "/"), -1);
}

TEST(SymlinkDepthTest, ALinkAtTheRootItselfMayNotClimbAtAll) {
  // Was an out-of-range substr (an exception, not a refusal) before depthBeneath.
  EXPECT_TRUE(refuseSymlinkTarget("/srv/out", "/srv/out", "..").refuses());
  EXPECT_FALSE(refuseSymlinkTarget("/srv/out", "/srv/out", "x").refuses());
}

TEST(SymlinkDepthTest, LeadingDotDotsStayBeneathTheRootExactlyWhenTheDepthIsAtLeastTheirNumber) {
  for (long dotDots = 0; dotDots <= 4; ++dotDots) {
    std::string target;
    for (long i = 0; i < dotDots; ++i) target += "../";
    target += "x";
    for (long depth = 0; depth <= 5; ++depth) {
      Refusal refused = refuseSymlinkTargetAt("/srv/out", depth, target, LinkChange::MOVE);
      EXPECT_EQ(!refused.refuses(), depth >= dotDots) << target << " at depth " << depth;
    }
  }
}

TEST(SymlinkDepthTest, ATargetThatPassesAtOneDepthPassesAtEveryGreaterDepth) {
  // So a rename that keeps or grows a link's depth cannot make it point out of the root.
  std::vector<std::string> targets = {"x", "./x", "..", "../..", "../x/y", "../../../a/b/c",
                                      "x/..", "/abs", "", "a/../../b"};
  for (const std::string& target : targets) {
    for (long depth = -1; depth <= 4; ++depth) {
      if (refuseSymlinkTargetAt("/r", depth, target, LinkChange::MOVE).refuses()) continue;
      for (long deeper = depth; deeper <= 6; ++deeper) {
        EXPECT_FALSE(refuseSymlinkTargetAt("/r", deeper, target, LinkChange::MOVE).refuses())
            << target << " passed at " << depth << " but not at " << deeper;
      }
    }
  }
}

TEST(SymlinkDepthTest, AtADepthTheCheckIsTheLinkPathsCheckAndNamesTheRuleThatMovesIt) {
  EXPECT_EQ(refuseSymlinkTargetAt("/srv/out", 2, "../../x", LinkChange::MAKE).why(),
            refuseSymlinkTarget("/srv/out", "/srv/out/a/b/l", "../../x").why());
  EXPECT_EQ(refuseSymlinkTargetAt("/srv/out", 0, "../x", LinkChange::MAKE).why(),
            refuseSymlinkTarget("/srv/out", "/srv/out/l", "../x").why());
  EXPECT_EQ(refuseSymlinkTargetAt("/srv/out", 0, "../x", LinkChange::MOVE).why(),
            "the symlink target \"../x\" climbs above /srv/out, the root of the rule that allows "
            "the rename");
  EXPECT_TRUE(refuseSymlinkTargetAt("/srv/out", 3, "/etc/passwd", LinkChange::MOVE).refuses());
  EXPECT_TRUE(refuseSymlinkTargetAt("/srv/out", 3, "a/..", LinkChange::MOVE).refuses())
      << "'..' after a name is refused at any depth";
}

}  // namespace
}  // namespace airlock::policy

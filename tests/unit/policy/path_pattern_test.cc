#include "broker/policy/model/path_pattern.h"

#include <gtest/gtest.h>

namespace airlock::policy {
namespace {

PathPattern pattern(std::string_view text) {
  std::string error;
  std::optional<PathPattern> p = PathPattern::parse(text, error);
  EXPECT_TRUE(p.has_value()) << text << ": " << error;
  return p.value_or(PathPattern{});
}

std::string parseError(std::string_view text) {
  std::string error;
  EXPECT_FALSE(PathPattern::parse(text, error).has_value()) << text;
  return error;
}

TEST(PathPattern, ExactPatternMatchesOnlyThatPath) {
  PathPattern p = pattern("/etc/app.conf");
  EXPECT_TRUE(p.matches("/etc/app.conf"));
  EXPECT_FALSE(p.matches("/etc/app.conf2"));
  EXPECT_FALSE(p.matches("/etc/app"));
  EXPECT_FALSE(p.matches("/etc/app.conf/x"));
  EXPECT_FALSE(p.matches("/etc"));
  EXPECT_TRUE(p.isExact());
}

TEST(PathPattern, StarMatchesWithinOneSegmentOnly) {
  PathPattern p = pattern("/srv/a/*.png");
  EXPECT_TRUE(p.matches("/srv/a/x.png"));
  EXPECT_TRUE(p.matches("/srv/a/.png"));
  EXPECT_FALSE(p.matches("/srv/a/b/x.png"));
  EXPECT_FALSE(p.matches("/srv/a/x.jpg"));
  EXPECT_FALSE(p.matches("/srv/a"));
}

TEST(PathPattern, StarSegmentNeedsExactlyOneSegment) {
  PathPattern p = pattern("/srv/*/data");
  EXPECT_TRUE(p.matches("/srv/x/data"));
  EXPECT_FALSE(p.matches("/srv/data"));
  EXPECT_FALSE(p.matches("/srv/x/y/data"));
}

TEST(PathPattern, SeveralStarsInOneSegmentBacktrack) {
  PathPattern p = pattern("/d/a*b*c");
  EXPECT_TRUE(p.matches("/d/abc"));
  EXPECT_TRUE(p.matches("/d/aXXbYYbZZc"));
  EXPECT_FALSE(p.matches("/d/aXXbYYcZ"));
}

TEST(PathPattern, DoubleStarMatchesZeroOrMoreSegments) {
  PathPattern p = pattern("/srv/images/**");
  EXPECT_TRUE(p.matches("/srv/images"));
  EXPECT_TRUE(p.matches("/srv/images/a.png"));
  EXPECT_TRUE(p.matches("/srv/images/a/b/c.png"));
  EXPECT_FALSE(p.matches("/srv/imagesX/a.png"));
  EXPECT_FALSE(p.matches("/srv"));
}

TEST(PathPattern, DoubleStarInTheMiddleMatchesZeroSegments) {
  PathPattern p = pattern("/srv/**/thumbs/*.png");
  EXPECT_TRUE(p.matches("/srv/thumbs/a.png"));
  EXPECT_TRUE(p.matches("/srv/x/y/thumbs/a.png"));
  EXPECT_TRUE(p.matches("/srv/thumbs/thumbs/a.png"));
  EXPECT_FALSE(p.matches("/srv/x/thumbs/sub/a.png"));
  EXPECT_FALSE(p.matches("/srv/x/thumbs"));
}

TEST(PathPattern, TwoDoubleStarsBacktrackCorrectly) {
  PathPattern p = pattern("/**/a/**/b");
  EXPECT_TRUE(p.matches("/a/b"));
  EXPECT_TRUE(p.matches("/x/a/y/z/b"));
  EXPECT_TRUE(p.matches("/a/a/b/b"));
  EXPECT_FALSE(p.matches("/x/a/y/b/c"));
}

TEST(PathPattern, NoPatternMatchesDotOrDotDotSegments) {
  EXPECT_FALSE(pattern("/srv/images/**").matches("/srv/images/../../etc/passwd"));
  EXPECT_FALSE(pattern("/srv/images/*").matches("/srv/images/.."));
  EXPECT_FALSE(pattern("/srv/images/*").matches("/srv/images/."));
  EXPECT_FALSE(pattern("/**").matches("/srv/./x"));
  EXPECT_FALSE(pattern("/**").matches("/srv//x"));
  EXPECT_FALSE(pattern("/**").matches("relative/x"));
}

TEST(PathPattern, WholeFilesystemPatternIsAccepted) {
  PathPattern p = pattern("/**");
  EXPECT_TRUE(p.matchesEverything());
  EXPECT_TRUE(p.matches("/etc/passwd"));
  EXPECT_EQ(p.root(), "/");
}

TEST(PathPattern, MalformedPatternsAreRejectedWithAReason) {
  EXPECT_EQ(parseError(""), "empty path pattern");
  EXPECT_EQ(parseError("srv/x"), "path pattern must be absolute (start with '/')");
  EXPECT_EQ(parseError("/srv//x"), "empty path segment (\"//\" or a trailing '/')");
  EXPECT_EQ(parseError("/srv/x/"), "empty path segment (\"//\" or a trailing '/')");
  EXPECT_EQ(parseError("/srv/../x"), "'.' and '..' segments are not allowed");
  EXPECT_EQ(parseError("/srv/./x"), "'.' and '..' segments are not allowed");
  EXPECT_EQ(parseError("/srv/a**"), "'**' must be a whole path segment");
  EXPECT_EQ(parseError("/srv/***"), "'**' must be a whole path segment");
  EXPECT_NE(parseError("/srv/*.{png,jpg}").find("reserved"), std::string::npos);
  EXPECT_NE(parseError("/srv/?.png").find("reserved"), std::string::npos);
  EXPECT_NE(parseError(std::string_view("/srv/a\0b", 9)).find("NUL"), std::string::npos);
  EXPECT_NE(parseError("/" + std::string(4096, 'a')).find("longer"), std::string::npos);
  EXPECT_NE(parseError("/").find("no file"), std::string::npos);
}

TEST(PathPattern, RootIsTheLongestWildcardFreeDirectory) {
  EXPECT_EQ(pattern("/srv/images/**").root(), "/srv/images");
  EXPECT_EQ(pattern("/srv/a/*.png").root(), "/srv/a");
  EXPECT_EQ(pattern("/etc/app.conf").root(), "/etc");
  EXPECT_EQ(pattern("/etc").root(), "/");
  EXPECT_EQ(pattern("/srv/img*/x").root(), "/srv");
  EXPECT_EQ(pattern("/*.conf").root(), "/");
}

TEST(PathPattern, ExactBeatsGlobAndLongerLiteralPrefixBeatsShorter) {
  EXPECT_GT(pattern("/srv/images/a.png").specificity(), pattern("/srv/images/*.png").specificity());
  EXPECT_GT(pattern("/a").specificity(), pattern("/srv/images/very/long/**").specificity());
  EXPECT_GT(pattern("/srv/images/a*").specificity(), pattern("/srv/images/**").specificity());
  EXPECT_GT(pattern("/srv/images/**").specificity(), pattern("/srv/**").specificity());
  EXPECT_EQ(pattern("/srv/images/**").specificity(), pattern("/srv/images/*.png").specificity());
}

TEST(ValidateRequestPath, AcceptsPlainAbsolutePaths) {
  EXPECT_FALSE(validateRequestPath("/srv/images/a.png").refuses());
  EXPECT_FALSE(validateRequestPath("/srv/images/.hidden").refuses());
  EXPECT_FALSE(validateRequestPath("/srv/images/..x").refuses());
  EXPECT_FALSE(validateRequestPath("/" + std::string(4095, 'a')).refuses());
}

TEST(ValidateRequestPath, RefusesEverythingThatCouldEscapeOrConfuse) {
  EXPECT_EQ(validateRequestPath("").why(), "empty path");
  EXPECT_EQ(validateRequestPath("srv/x").why(), "path is not absolute");
  EXPECT_EQ(validateRequestPath("/srv//x").why(), "path has an empty segment (\"//\" or a trailing '/')");
  EXPECT_EQ(validateRequestPath("/srv/x/").why(), "path has an empty segment (\"//\" or a trailing '/')");
  EXPECT_EQ(validateRequestPath("/").why(), "path has an empty segment (\"//\" or a trailing '/')");
  EXPECT_EQ(validateRequestPath("/srv/../etc").why(), "path has a '.' or '..' segment");
  EXPECT_EQ(validateRequestPath("/srv/..").why(), "path has a '.' or '..' segment");
  EXPECT_EQ(validateRequestPath("/./srv").why(), "path has a '.' or '..' segment");
  EXPECT_EQ(validateRequestPath(std::string_view("/srv/a\0b", 9)).why(), "path contains a NUL byte");
  EXPECT_EQ(validateRequestPath("/" + std::string(4096, 'a')).why(), "path longer than 4096 bytes");
}

}  // namespace
}  // namespace airlock::policy

#include "broker/policy/model/typed_interface.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "broker/policy/load/policy_loader.h"
#include "broker/policy/model/revision.h"
#include "tests/unit/policy/temp_policy_dir.h"

namespace airlock::policy {
namespace {

using testing::TempPolicyDir;

const char SCHEMA[] = R"(@0xd3b1e0c5a7f29e41;
using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("example");
struct Image { width @0 :UInt32; }
interface Base { ping @0 () -> (); }
interface Decoder extends(Base) {
  decode @0 (png :Data) -> (image :Image);
  describe @1 () -> (text :Text);
}
)";

std::string unitWith(const std::string& interfaceLine) {
  return "[unit]\nname = \"decoder\"\nworker = \"/bin/true\"\n" + interfaceLine +
         "\n\n[[rule]]\nid = \"web\"\nallow = \"call\"\ncaller = [\"web\"]\nmethod = [\"decode\"]\n";
}

class TypedInterfaceTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_.write("policies/interfaces/decoder.capnp", SCHEMA); }
  LoadResult load(const std::string& interfaceLine) {
    return loadPolicyFile(dir_.write("policies/decoder.toml", unitWith(interfaceLine)), options_);
  }
  std::string firstError(const LoadResult& result) {
    return result.errors.empty() ? "" : result.errors[0].describe();
  }
  TempPolicyDir dir_;
  LoadOptions options_;
};

TEST_F(TypedInterfaceTest, MethodsAreNamedFromTheSchemaIncludingTheSuperclasses) {
  auto result = load("interface = \"interfaces/decoder.capnp:Decoder\"");
  ASSERT_TRUE(result.errors.empty()) << firstError(result);
  ASSERT_EQ(result.units.size(), 1u);
  auto typed = result.units[0].typedInterface;
  ASSERT_NE(typed, nullptr);
  EXPECT_EQ(typed->name, "Decoder");
  EXPECT_EQ(typed->schemaFile, dir_.path() + "/policies/interfaces/decoder.capnp");
  ASSERT_EQ(typed->methods.size(), 3u);
  EXPECT_EQ(typed->methods[0].name, "decode");
  EXPECT_EQ(typed->methods[1].name, "describe");
  EXPECT_EQ(typed->methods[2].name, "ping");
  EXPECT_NE(typed->methods[2].interfaceId, typed->id) << "ping is declared by Base";

  const auto* decode = typed->find(typed->id, 0);
  ASSERT_NE(decode, nullptr);
  EXPECT_EQ(decode->name, "decode");
  EXPECT_EQ(typed->find(typed->id, 2), nullptr) << "Decoder declares no ordinal 2";
  EXPECT_EQ(typed->find(typed->methods[2].interfaceId, 0)->name, "ping");
  EXPECT_EQ(typed->find(0x1234, 0), nullptr);
}

TEST_F(TypedInterfaceTest, AnAbsolutePathWorksToo) {
  auto result = load("interface = \"" + dir_.path() + "/policies/interfaces/decoder.capnp:Decoder\"");
  ASSERT_TRUE(result.errors.empty()) << firstError(result);
  EXPECT_NE(result.units[0].typedInterface, nullptr);
}

TEST_F(TypedInterfaceTest, APolicyDirectoryGivenAsARelativePathWorks) {
  // airlockd --policies policies: the schema is found relative to the working directory.
  std::string relativeDir =
      std::filesystem::relative(dir_.path() + "/policies", std::filesystem::current_path());
  ASSERT_NE(relativeDir.front(), '/');
  std::string error;
  auto typed = loadTypedInterface("interfaces/decoder.capnp:Decoder", relativeDir, error);
  ASSERT_NE(typed, nullptr) << error;
  EXPECT_EQ(typed->schemaFile, dir_.path() + "/policies/interfaces/decoder.capnp");
}

TEST_F(TypedInterfaceTest, ProblemsAreReportedAtTheKeyWithTheReason) {
  struct Case {
    std::string line, expected;
  } cases[] = {
      {"interface = \"interfaces/missing.capnp:Decoder\"", "cannot read"},
      {"interface = \"interfaces:Decoder\"", "is not a regular file"},
      {"interface = \"interfaces/decoder.capnp:Nope\"", "no interface Nope in"},
      {"interface = \"interfaces/decoder.capnp:Image\"", "Image in"},
      {"interface = \"interfaces/decoder.capnp\"", "expected \"FILE.capnp:InterfaceName\""},
      {"interface = 7", "interface"},
  };
  for (const Case& c : cases) {
    auto result = load(c.line);
    ASSERT_FALSE(result.errors.empty()) << c.line;
    std::string error = firstError(result);
    EXPECT_NE(error.find("decoder.toml:4:"), std::string::npos) << error;
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.line << " -> " << error;
  }
  dir_.write("policies/interfaces/broken.capnp", "@0xd3b1e0c5a7f29e42;\ninterface X { m @0 ( -> (); }\n");
  auto broken = load("interface = \"interfaces/broken.capnp:X\"");
  ASSERT_FALSE(broken.errors.empty());
  EXPECT_NE(firstError(broken).find("broken.capnp:2"), std::string::npos)
      << "the schema's own line is in the message: " << firstError(broken);
}

TEST_F(TypedInterfaceTest, TheInterfaceIsPartOfTheRevisionAndItsAbsenceChangesNothing) {
  auto with = load("interface = \"interfaces/decoder.capnp:Decoder\"");
  auto without = load("");
  ASSERT_TRUE(with.errors.empty() && without.errors.empty());
  EXPECT_NE(canonicalForm(with.units[0]), canonicalForm(without.units[0]));
  EXPECT_EQ(canonicalForm(without.units[0]).find("interface"), std::string::npos);
}

}  // namespace
}  // namespace airlock::policy

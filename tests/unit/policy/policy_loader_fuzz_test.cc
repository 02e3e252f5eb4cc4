// Feeds random and mutated bytes to the loader: it must never crash or throw, and must either
// load a unit or explain why not.

#include <gtest/gtest.h>

#include <random>

#include "broker/policy/decide/decide.h"
#include "broker/policy/load/policy_loader.h"
#include "tests/unit/policy/temp_policy_dir.h"

namespace airlock::policy {
namespace {

const char* const SEED = R"([unit]
name = "thumbnailer"
worker = "/bin/sh"
instances = 2
[sandbox]
read_only_paths = ["/usr"]
[[rule]]
id = "images"
allow = "fs.open"
path = "${images}/**/*.png"
mode = ["read", "write"]
[[rule]]
id = "root"
deny = "call"
caller = ["web"]
caller_uid = [0]
method = ["thumbnail", "*"]
)";

void checkOne(const std::string& file, const LoadOptions& options) {
  LoadResult r;
  ASSERT_NO_THROW(r = loadPolicyFile(file, options));
  EXPECT_TRUE(r.ok() ? r.units.size() == 1 : r.units.empty());
  for (const Diagnostic& d : r.errors) {
    EXPECT_FALSE(d.message.empty());
    EXPECT_EQ(d.where.file, file);
  }
  // Whatever loaded must be decidable.
  OpenModes read;
  read.add(OpenMode::READ);
  for (const UnitPolicy& u : r.units) {
    decideFsOpen(u, "/srv/images/a/b.png", read);
    decideCall(u, Caller{"web", 0}, "thumbnail");
  }
}

TEST(LoaderFuzz, MutatedAndRandomInputsNeverCrashTheLoader) {
  testing::TempPolicyDir dir;
  LoadOptions options;
  options.defines["images"] = "/srv/images";
  std::mt19937 rng(20240607);
  const std::string seed = SEED;
  const std::string alphabet = "[]{}\"'=.,#*$/\\\n \t0123456789abcdefxyz-_\x80\xff";
  for (int round = 0; round < 1500; ++round) {
    std::string text = seed;
    int kind = round % 3;
    if (kind == 0) {  // point mutations
      int edits = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < edits && !text.empty(); ++i) {
        size_t at = rng() % text.size();
        switch (rng() % 3) {
          case 0: text[at] = alphabet[rng() % alphabet.size()]; break;
          case 1: text.erase(at, 1 + rng() % 4); break;
          default: text.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        }
      }
    } else if (kind == 1) {  // splice two slices of the seed
      size_t a = rng() % seed.size(), b = rng() % seed.size();
      text = seed.substr(0, a) + seed.substr(b);
    } else {  // random bytes
      text.resize(rng() % 512);
      for (char& c : text) c = static_cast<char>(rng());
    }
    std::string file = dir.write("fuzz.toml", text);
    checkOne(file, options);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "input was:\n" << text;
      return;
    }
  }
}

}  // namespace
}  // namespace airlock::policy

// Fuzz-style: mutated copies of a real signed log fed to the verifier. It must never crash or
// throw, and any copy that differs from the original by a single byte-, line- or cut-level
// mutation must fail with at least one clearly described problem.

#include <gtest/gtest.h>

#include <random>

#include "audit/verifier.h"
#include "tests/unit/audit/test_log.h"

namespace airlock::audit {
namespace {

using namespace testing;

std::string mutate(const std::string& text, std::mt19937& random) {
  std::string out = text;
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
  auto lineStarts = [&]() {
    std::vector<size_t> starts = {0};
    for (size_t i = 0; i + 1 < out.size(); ++i) {
      if (out[i] == '\n') starts.push_back(i + 1);
    }
    return starts;
  };
  switch (pick(7)) {
    case 0: out[pick(out.size())] ^= static_cast<char>(1 + pick(255)); break;  // flip a byte
    case 1: out.erase(pick(out.size()), 1); break;                                // drop a byte
    case 2: out.insert(pick(out.size()), 1, static_cast<char>(pick(256))); break;  // add a byte
    case 3: out.resize(pick(out.size())); break;                                  // cut anywhere
    case 4: {  // duplicate a line somewhere else
      auto starts = lineStarts();
      size_t from = starts[pick(starts.size())];
      std::string line = out.substr(from, out.find('\n', from) - from + 1);
      out.insert(starts[pick(starts.size())], line);
      break;
    }
    case 5: {  // delete a line
      auto starts = lineStarts();
      size_t from = starts[pick(starts.size())];
      out.erase(from, out.find('\n', from) - from + 1);
      break;
    }
    default: {  // a digit changed to another digit: still valid JSON, plausibly still a record
      std::vector<size_t> digits;
      for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] >= '0' && out[i] <= '9') digits.push_back(i);
      }
      size_t at = digits[pick(digits.size())];
      out[at] = static_cast<char>('0' + (out[at] - '0' + 1 + pick(9)) % 10);
      break;
    }
  }
  return out;
}

TEST(VerifierFuzzTest, MutatedLogsNeverCrashTheVerifierAndNeverPass) {
  ScratchDir dir;
  auto key = writeSignedLog(dir.file("audit.jsonl"), dir.file("anchor.jsonl"), 12, 4);
  std::string original = readFile(dir.file("audit.jsonl"));
  std::mt19937 random(20261126);  // fixed seed: a failure is reproducible
  int mutated = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string text = mutate(original, random);
    std::ofstream(dir.file("copy.jsonl"), std::ios::binary | std::ios::trunc) << text;
    VerifyReport report;
    ASSERT_NO_THROW(report = verify(dir.file("copy.jsonl"), key, dir.file("anchor.jsonl")))
        << "iteration " << i;
    if (text == original) continue;
    ++mutated;
    ASSERT_FALSE(report.ok()) << "iteration " << i << " passed a doctored log:\n" << text;
    for (auto& problem : report.problems) {
      ASSERT_FALSE(problem.message.empty());
      ASSERT_EQ(problem.describe().find(problem.file + ":"), 0u);
    }
  }
  EXPECT_GT(mutated, 1000);
}

}  // namespace
}  // namespace airlock::audit

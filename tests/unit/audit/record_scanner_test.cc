// The verifier's fast path: a line the scanner accepts must be exactly what nlohmann's parse and
// compact dump give back (the general path's test), with the same seq, prev and event; lines it
// cannot prove go to the general path, which is never wrong, only slower.

#include "audit/record_scanner.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "audit/chain.h"

namespace airlock::audit {
namespace {

using Json = nlohmann::ordered_json;

// The general path's verdict: is `line` a record in the canonical form?
bool canonicalByParsing(const std::string& line) {
  Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("seq") && j["seq"].is_number_unsigned() &&
         j.contains("prev") && j["prev"].is_string() &&
         isLowerHex(j["prev"].get<std::string>(), HASH_HEX_CHARS) && j.contains("event") &&
         j["event"].is_string() && j.dump(-1, ' ', false, Json::error_handler_t::replace) == line;
}

// Accepting is only allowed where the general path agrees, and must extract the same fields.
void expectAgrees(const std::string& line) {
  KJ_IF_MAYBE(scanned, scanCanonicalRecord(line)) {
    ASSERT_TRUE(canonicalByParsing(line)) << "scanner accepted a non-canonical line: " << line;
    Json j = Json::parse(line);
    EXPECT_EQ(scanned->seq, j["seq"].get<uint64_t>()) << line;
    EXPECT_EQ(scanned->prev, j["prev"].get<std::string>()) << line;
    if (scanned->event.find('\\') == std::string_view::npos) {
      EXPECT_EQ(scanned->event, j["event"].get<std::string>()) << line;
    }
  }
}

Json typicalRecord(const std::string& path) {
  Json j;
  j["seq"] = 42;
  j["time"] = "2026-11-26T18:33:36.951219Z";
  j["event"] = "fs.open";
  j["prev"] = lineHashHex("x");
  j["unit"] = "thumbnailer";
  j["worker_pid"] = 10204;
  j["args"] = {{"path", path}, {"mode", "read"}, {"sizes", {1, 0, 18446744073709551615u}}};
  j["decision"] = "allow";
  j["ok"] = true;
  j["nothing"] = nullptr;
  return j;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

TEST(RecordScanner, AcceptsWhatTheWriterWritesWithTheSameFields) {
  for (const std::string& path : std::vector<std::string>{"/srv/a.png", "quote \" backslash \\ slash /", "tab\there\nnl\x01\x1f\x7f",
                           "ünïcödé ⊆ 𝄞", "", "\xff\xfe invalid utf-8 replaced"}) {
    std::string line = dump(typicalRecord(path));
    KJ_IF_MAYBE(scanned, scanCanonicalRecord(line)) {
      EXPECT_EQ(scanned->seq, 42u);
      EXPECT_EQ(scanned->event, "fs.open");
      EXPECT_EQ(scanned->prev, lineHashHex("x"));
    } else {
      ADD_FAILURE() << "the fast path refused a line the writer wrote: " << line;
    }
    expectAgrees(line);
  }
}

TEST(RecordScanner, LeavesEveryNonCanonicalSpellingToTheGeneralParser) {
  std::string prev = lineHashHex("x");
  std::string good = R"({"seq":1,"event":"call","prev":")" + prev + R"("})";
  ASSERT_NE(scanCanonicalRecord(good), nullptr);
  for (const std::string& line : std::vector<std::string>{
           R"({"seq":1, "event":"call","prev":")" + prev + R"("})",        // whitespace
           R"({"seq":01,"event":"call","prev":")" + prev + R"("})",        // leading zero
           R"({"seq":1.0,"event":"call","prev":")" + prev + R"("})",       // float
           R"({"seq":1e0,"event":"call","prev":")" + prev + R"("})",       // exponent
           R"({"seq":-1,"event":"call","prev":")" + prev + R"("})",        // negative
           R"({"seq":18446744073709551616,"event":"call","prev":")" + prev + R"("})",  // overflow
           R"({"seq":1,"event":"c\/all","prev":")" + prev + R"("})",       // needless escape
           R"({"seq":1,"event":"c\u0061ll","prev":")" + prev + R"("})",    // needless \u
           R"({"seq":1,"event":"c\u000all","prev":")" + prev + R"("})",    // \u for \n
           R"({"seq":1,"event":"c\u001Fll","prev":")" + prev + R"("})",    // upper-case hex
           "{\"seq\":1,\"event\":\"c\tall\",\"prev\":\"" + prev + "\"}",   // raw control char
           "{\"seq\":1,\"event\":\"c\xc0\xafll\",\"prev\":\"" + prev + "\"}",  // overlong UTF-8
           "{\"seq\":1,\"event\":\"c\xed\xa0\x80ll\",\"prev\":\"" + prev + "\"}",  // surrogate
           R"({"seq":1,"event":"call","prev":")" + prev + R"(","seq":2})",  // repeated key
           R"({"seq":1,"event":"call","prev":")" + prev + R"(","a":{"k":1,"k":2}})",
           R"({"seq":1,"event":"call","prev":")" + prev + R"("} )",        // trailing byte
           R"({"seq":1,"event":"call","prev":")" + prev + R"(")",           // unclosed
           R"({"seq":1,"event":"call","prev":"ABC"})",                      // prev not hex
           R"({"seq":"1","event":"call","prev":")" + prev + R"("})",       // seq a string
           R"({"event":"call","prev":")" + prev + R"("})",                 // no seq
           R"([1,2])", "", "{}", "null"}) {
    EXPECT_EQ(scanCanonicalRecord(line), nullptr) << line;
    expectAgrees(line);
  }
}

TEST(RecordScanner, NeverAcceptsALineTheGeneralPathWouldRejectUnderRandomMutation) {
  std::string original = dump(typicalRecord("/srv/ünï \"q\" \\ \x02.png"));
  std::mt19937 random(20261127);  // fixed seed: a failure is reproducible
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
  for (int i = 0; i < 20000; ++i) {
    std::string line = original;
    for (int edits = 1 + pick(3); edits > 0; --edits) {
      switch (pick(3)) {
        case 0: line[pick(line.size())] = static_cast<char>(pick(256)); break;
        case 1: line.erase(pick(line.size()), 1); break;
        default: line.insert(pick(line.size()), 1, "{}[],:\"\\u0 1e-"[pick(15)]); break;
      }
      if (line.empty()) break;
    }
    expectAgrees(line);
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace airlock::audit

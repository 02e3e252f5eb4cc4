// The report page's escaping and content on a model built from hostile records: nothing from
// the log becomes markup, violations are marked, and the CSP admits exactly the page's script.

#include "audit/html_report.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "audit/html_escape.h"
#include "tests/unit/audit/record_lines.h"

namespace airlock::audit {
namespace {

using namespace testing;

size_t occurrences(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

TEST(HtmlEscape, MarkupQuotesAndControlBytesBecomeInert) {
  EXPECT_EQ(htmlEscape("<a href='x' title=\"y\">&amp;</a>"),
            "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;amp;&lt;/a&gt;");
  EXPECT_EQ(htmlEscape(std::string("a\x1b[2J\x00\x7f" "b", 8)), "a\\x1b[2J\\x00\\x7fb");
  EXPECT_EQ(htmlEscape("caf\xc3\xa9 /srv/x"), "caf\xc3\xa9 /srv/x") << "UTF-8 kept";
}

TEST(HtmlReport, NothingFromTheLogBecomesMarkup) {
  const std::string hostile = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>";
  ReportModel model({"/var/log/" + hostile}, VerificationOutcome{false, {"x:1: " + hostile}});
  model.add(fsOpen(1, "2026-11-26T18:00:00.000000Z", "/srv/" + hostile, "deny", hostile));
  model.add(parsed({{"seq", 2}, {"time", "2026-11-26T18:00:01.000000Z"},
                    {"event", "worker.exit"}, {"prev", std::string(64, '0')}, {"unit", hostile},
                    {"worker_pid", 42}, {"result", "killed by seccomp: " + hostile}}));
  auto page = renderReportHtml(model);
  EXPECT_EQ(occurrences(page, "<script"), 1u) << "only the page's own";
  EXPECT_EQ(occurrences(page, "<img"), 0u);
  EXPECT_EQ(occurrences(page, "onerror=alert"), occurrences(page, "&lt;img src=x onerror=alert"));
  EXPECT_GE(occurrences(page, htmlEscape(hostile)), 6u)
      << "file, problem, unit (twice), args, result";
  EXPECT_NE(page.find("data-unit=\"" + htmlEscape(hostile) + "\""), std::string::npos);
}

TEST(HtmlReport, ViolationsAreMarkedAndCountedPerUnit) {
  ReportModel model({"a.jsonl"}, VerificationOutcome{true, {"ok: 3 records"}});
  for (auto [seq, event, result] :
       {std::tuple{1u, "worker.spawn", "started /w"},
        std::tuple{2u, "worker.exit", "killed by seccomp: refused syscall ptrace(0x10)"},
        std::tuple{3u, "worker.exit", "exited with status 0"}}) {
    model.add(parsed({{"seq", seq}, {"time", "2026-11-26T18:00:01.000000Z"}, {"event", event},
                      {"prev", std::string(64, '0')}, {"unit", "zipper"}, {"result", result}}));
  }
  auto& workers = model.workersByUnit().at("zipper");
  EXPECT_EQ(workers.spawns, 1u);
  EXPECT_EQ(workers.exits, 2u);
  EXPECT_EQ(workers.violations, 1u);
  auto page = renderReportHtml(model);
  EXPECT_EQ(occurrences(page, "<tr class=\"violation\""), 1u);
  EXPECT_EQ(occurrences(page, "<tr class=\"lifecycle\""), 2u);
  EXPECT_NE(page.find("<td class=\"n violations\">1</td>"), std::string::npos);
  EXPECT_NE(page.find("No denials."), std::string::npos);
}

TEST(HtmlReport, TheContentSecurityPolicyAdmitsExactlyThePagesScriptAndNoFetch) {
  auto page = renderReportHtml(ReportModel({"a"}, VerificationOutcome{true, {}}));
  auto open = page.find("<script>") + 8;
  auto script = page.substr(open, page.find("</script>") - open);
  ASSERT_GE(sodium_init(), 0);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(script.data()), script.size());
  char base64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(base64, sizeof(base64), digest, sizeof(digest),
                    sodium_base64_VARIANT_ORIGINAL);
  EXPECT_NE(page.find("script-src 'sha256-" + std::string(base64) + "'"), std::string::npos);
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(page.find("http"), page.find("http-equiv")) << "no URL anywhere";
}

TEST(ReportModel, TheChartBucketGrowsWithTheTimeSpan) {
  ReportModel model({"a"}, VerificationOutcome{true, {}});
  model.add(fsOpen(1, "2026-11-26T18:00:00.000000Z", "/a", "deny"));
  model.add(fsOpen(2, "2026-11-26T19:00:00.000000Z", "/a", "deny"));
  EXPECT_EQ(model.chartBucketMicros(), 60 * 1000000LL) << "60 one-minute buckets";
  model.add(fsOpen(3, "2026-11-27T18:00:00.000000Z", "/a", "deny"));
  EXPECT_EQ(model.chartBucketMicros(), 15 * 60 * 1000000LL) << "96 fifteen-minute buckets";
}

}  // namespace
}  // namespace airlock::audit

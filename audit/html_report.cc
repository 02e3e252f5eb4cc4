#include "audit/html_report.h"

#include <kj/debug.h>
#include <sodium.h>

#include <algorithm>
#include <map>
#include <string_view>

#include "audit/audit_log.h"
#include "audit/html_escape.h"

namespace airlock::audit {

namespace _ {

constexpr size_t TOP_DENIED_REQUESTS = 50;

constexpr std::string_view STYLE = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:3px 8px;
border-bottom:1px solid #eee;vertical-align:top}td.n,th.n{text-align:right}
code,td.args{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
#verification{padding:1em;border-radius:6px;font-weight:600}
#verification.ok{background:#e5f5e5;border:1px solid #5a5}
#verification.fail{background:#fbe3e3;border:1px solid #c44}
#verification li{font-weight:normal;font-family:ui-monospace,monospace;font-size:12px}
tr.violation{background:#fff0e0}.muted{color:#777}rect.denied-bar{fill:#c44}
input[type=search]{margin:.5em 0;padding:3px 6px;width:20em}
)";

// Filters a table's rows by a search box, and marks the page as scripted (#js-status).
constexpr std::string_view SCRIPT = R"(
(function () {
  document.querySelectorAll('input[data-filter]').forEach(function (input) {
    var table = document.getElementById(input.getAttribute('data-filter'));
    input.addEventListener('input', function () {
      var wanted = input.value.toLowerCase();
      table.querySelectorAll('tbody tr').forEach(function (row) {
        row.hidden = wanted !== '' && row.textContent.toLowerCase().indexOf(wanted) < 0;
      });
    });
  });
  var status = document.getElementById('js-status');
  status.textContent = 'interactive: filters ready';
  status.setAttribute('data-state', 'ran');
})();
)";

std::string e(std::string_view text) { return htmlEscape(text); }
std::string num(uint64_t n) { return std::to_string(n); }
std::string timeText(int64_t micros) { return AuditLog::formatTime(micros); }

// 'sha256-<base64>' of the script, for the Content-Security-Policy.
std::string scriptHashSource() {
  KJ_ASSERT(sodium_init() >= 0, "libsodium could not initialise");
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(SCRIPT.data()),
                     SCRIPT.size());
  char base64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
                                        sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(base64, sizeof(base64), digest, sizeof(digest),
                    sodium_base64_VARIANT_ORIGINAL);
  return std::string("'sha256-") + base64 + "'";
}

std::string head() {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'; script-src " + scriptHashSource() + "\">\n"
         "<title>airlock audit report</title>\n<style>" + std::string(STYLE) + "</style>\n"
         "</head><body>\n<h1>airlock audit report</h1>\n";
}

std::string verificationSection(const ReportModel& model) {
  auto& result = model.verification();
  std::string out = "<section id=\"verification\" class=\"" +
                    std::string(result.ok ? "ok" : "fail") + "\" data-ok=\"" +
                    (result.ok ? "true" : "false") + "\">\n";
  out += result.ok ? "Verified: the log is the one airlockd wrote.\n"
                   : "Verification FAILED: the log is not as airlockd wrote it.\n";
  out += "<ul>\n";
  for (auto& line : result.lines) out += "<li>" + e(line) + "</li>\n";
  out += "</ul></section>\n<p>Files:";
  for (auto& file : model.files()) out += " <code>" + e(file) + "</code>";
  auto& stats = model.stats();
  out += "<br>Records: <span id=\"total-records\">" + num(stats.records()) +
         "</span>, allowed <span id=\"total-allowed\">" + num(stats.totals().allowed) +
         "</span>, denied <span id=\"total-denied\">" + num(stats.totals().denied) + "</span>";
  if (stats.records() > 0) {
    out += ", from " + timeText(stats.firstMicros()) + " to " + timeText(stats.lastMicros());
  }
  if (model.malformedLines() > 0) {
    out += "<br><strong>Malformed lines: <span id=\"malformed-lines\">" +
           num(model.malformedLines()) + "</span></strong> (not counted)";
  }
  return out + "</p>\n<p id=\"js-status\" class=\"muted\" data-state=\"not-run\">static page"
               " (scripts did not run)</p>\n";
}

// The call outcomes that get a column of their own; the rest share "other".
constexpr std::string_view OUTCOME_COLUMNS[] = {"ok", "crashed", "timed-out", "out-of-memory",
                                                "denied", "busy"};

std::string outcomeHeads() {
  std::string out;
  for (auto outcome : OUTCOME_COLUMNS) out += "<th class=n>calls " + std::string(outcome) + "</th>";
  return out + "<th class=n>calls other</th>";
}

std::string outcomeCells(const CountsTable& table, const std::string& key) {
  std::map<std::string, uint64_t> counts;
  auto found = table.byKey.find(key);
  if (found != table.byKey.end()) counts = found->second;
  std::string out;
  for (auto outcome : OUTCOME_COLUMNS) {
    std::string name(outcome);
    out += "<td class=\"n outcome-" + name + "\">" + num(counts[name]) + "</td>";
    counts.erase(name);
  }
  uint64_t other = 0;
  for (auto& [name, count] : counts) other += count;
  return out + "<td class=\"n outcome-other\">" + num(other) + "</td>";
}

std::string unitsSection(const ReportModel& model) {
  std::string out =
      "<h2>Units</h2>\n<p class=\"muted\">Decisions (allowed, denied) and how the calls ended "
      "are counted apart: an allowed call that crashed is a crash. Worker crashes are the "
      "workers' own; airlockd's stops (shutdown, reload, a parked unit, a deadline) are "
      "not crashes.</p>\n<table id=\"units\"><thead><tr><th>unit</th><th class=n>records</th>"
      "<th class=n>allowed</th><th class=n>denied</th>" + outcomeHeads() +
      "<th class=n>worker spawns</th><th class=n>worker crashes</th>"
      "<th class=n>stopped by airlockd</th><th class=n>sandbox violations</th></tr></thead>"
      "<tbody>\n";
  for (auto& [unit, tally] : model.stats().byUnit().byKey) {
    UnitWorkers workers;
    auto found = model.workersByUnit().find(unit);
    if (found != model.workersByUnit().end()) workers = found->second;
    out += "<tr data-unit=\"" + e(unit) + "\"><td>" + e(unit) + "</td><td class=\"n records\">" +
           num(tally.records) + "</td><td class=\"n allowed\">" + num(tally.allowed) +
           "</td><td class=\"n denied\">" + num(tally.denied) + "</td>" +
           outcomeCells(model.stats().outcomesByUnit(), unit) + "<td class=\"n spawns\">" +
           num(workers.spawns) + "</td><td class=\"n crashes\">" + num(workers.crashes) +
           "</td><td class=\"n stopped\">" + num(workers.stoppedByAirlockd) +
           "</td><td class=\"n violations\">" + num(workers.violations) + "</td></tr>\n";
  }
  return out + "</tbody></table>\n";
}

std::string callersSection(const ReportModel& model) {
  std::string out = "<h2>Callers</h2>\n<table id=\"callers\"><thead><tr><th>caller</th>" +
                    outcomeHeads() + "</tr></thead><tbody>\n";
  for (auto& [caller, counts] : model.stats().outcomesByCaller().byKey) {
    out += "<tr data-caller=\"" + e(caller) + "\"><td>" + e(caller) + "</td>" +
           outcomeCells(model.stats().outcomesByCaller(), caller) + "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

std::string chartSection(const ReportModel& model) {
  int64_t width = model.chartBucketMicros();
  auto buckets = model.stats().buckets(width);
  uint64_t most = 0;
  for (auto& bucket : buckets) most = std::max(most, bucket.denied);
  std::string out = "<h2>Denials over time</h2>\n<p class=\"muted\">denied decisions per " +
                    num(width / 60000000) + " min</p>\n";
  if (most == 0) return out + "<p id=\"denials-chart\" data-denied=\"0\">No denials.</p>\n";
  constexpr int PLOT_W = 1000, PLOT_H = 180, LEFT = 40, BOTTOM = 20;
  int64_t first = buckets.front().startMicros;
  int64_t slots = (buckets.back().startMicros - first) / width + 1;
  double barWidth = double(PLOT_W) / double(slots);
  out += "<svg id=\"denials-chart\" role=\"img\" viewBox=\"0 0 " + num(LEFT + PLOT_W + 10) + " " +
         num(PLOT_H + BOTTOM + 10) + "\" width=\"100%\">\n";
  out += "<text x=\"0\" y=\"12\" font-size=\"11\">" + num(most) + "</text>\n";
  out += "<line x1=\"" + num(LEFT) + "\" y1=\"" + num(PLOT_H) + "\" x2=\"" + num(LEFT + PLOT_W) +
         "\" y2=\"" + num(PLOT_H) + "\" stroke=\"#999\"/>\n";
  for (auto& bucket : buckets) {
    if (bucket.denied == 0) continue;
    double x = LEFT + double((bucket.startMicros - first) / width) * barWidth;
    double h = double(PLOT_H - 5) * double(bucket.denied) / double(most);
    out += "<rect class=\"denied-bar\" data-start=\"" + timeText(bucket.startMicros) +
           "\" data-denied=\"" + num(bucket.denied) + "\" x=\"" + std::to_string(x) + "\" y=\"" +
           std::to_string(PLOT_H - h) + "\" width=\"" + std::to_string(std::max(barWidth - 1, 1.0)) +
           "\" height=\"" + std::to_string(h) + "\"><title>" + timeText(bucket.startMicros) +
           ": " + num(bucket.denied) + " denied of " + num(bucket.decisions) +
           "</title></rect>\n";
  }
  out += "<text x=\"" + num(LEFT) + "\" y=\"" + num(PLOT_H + 15) + "\" font-size=\"11\">" +
         timeText(first) + "</text>\n<text x=\"" + num(LEFT + PLOT_W) + "\" y=\"" +
         num(PLOT_H + 15) + "\" font-size=\"11\" text-anchor=\"end\">" +
         timeText(buckets.back().startMicros + width) + "</text>\n</svg>\n";
  return out;
}

std::string topDeniedSection(const ReportModel& model) {
  std::string out =
      "<h2>Most frequent denied requests</h2>\n"
      "<input type=\"search\" data-filter=\"top-denied\" placeholder=\"filter rows\">\n"
      "<table id=\"top-denied\"><thead><tr><th class=n>count</th><th>unit</th><th>operation</th>"
      "<th>arguments</th><th>denied by rule</th><th>last</th></tr></thead><tbody>\n";
  for (auto& request : model.stats().topDeniedRequests(TOP_DENIED_REQUESTS)) {
    out += "<tr><td class=\"n count\">" + num(request.count) + "</td><td>" + e(request.unit) +
           "</td><td>" + e(request.event) + "</td><td class=\"args\">" + e(request.args) +
           "</td><td class=\"rule\">" + e(request.rule) + "</td><td>" +
           timeText(request.lastMicros) + "</td></tr>\n";
  }
  return out + "</tbody></table>\n";
}

std::string eventsSection(const ReportModel& model) {
  std::string out =
      "<h2>Lifecycle and sandbox violations</h2>\n"
      "<input type=\"search\" data-filter=\"events\" placeholder=\"filter rows\">\n"
      "<table id=\"events\"><thead><tr><th>time</th><th>event</th><th>unit</th>"
      "<th class=n>worker pid</th><th>result</th><th>cause</th></tr></thead><tbody>\n";
  for (auto& event : model.events()) {
    std::string cause = event.cause.empty() ? "" : " data-cause=\"" + e(event.cause) + "\"";
    out += std::string("<tr class=\"") + (event.violation ? "violation" : "lifecycle") +
           "\" data-event=\"" + e(event.event) + "\"" + cause + "><td>" +
           timeText(event.timeMicros) + "</td><td>" + e(event.event) + "</td><td>" +
           e(event.unit) + "</td><td class=n>" +
           (event.workerPid > 0 ? std::to_string(event.workerPid) : "") + "</td><td>" +
           e(event.result) + "</td><td>" + e(event.cause) + "</td></tr>\n";
  }
  out += "</tbody></table>\n";
  if (model.eventsOmitted() > 0) {
    out += "<p>" + num(model.eventsOmitted()) +
           " later events not shown (airlock audit query --op worker.exit ...).</p>\n";
  }
  return out;
}

}  // namespace _

std::string renderReportHtml(const ReportModel& model) {
  return _::head() + _::verificationSection(model) + _::unitsSection(model) + _::callersSection(model) +
         _::chartSection(model) + _::topDeniedSection(model) + _::eventsSection(model) +
         "<script>" + std::string(_::SCRIPT) + "</script>\n</body></html>\n";
}

}  // namespace airlock::audit

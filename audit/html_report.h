#pragma once
// `airlock audit report`'s page: one self-contained HTML document (inline CSS, one inline
// script, inline SVG; a Content-Security-Policy that allows no fetch at all and only that one
// script, by its hash) showing a ReportModel: the verification result first, then a summary per
// unit, denials over time as a bar chart, the most frequent denied requests with the rule that
// denied them, and the lifecycle and sandbox-violation events.
//
// Every string from the log goes through htmlEscape. Elements carry data-* attributes and ids
// (#verification, #units, #denials-chart, #top-denied, #events, #js-status) so that the page
// can be read by programs too. Pure function of the model; callable from any thread.

#include <string>

#include "audit/report_model.h"

namespace airlock::audit {

std::string renderReportHtml(const ReportModel& model);

}  // namespace airlock::audit

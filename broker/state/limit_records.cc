#include "broker/state/limit_records.h"

#include <spdlog/spdlog.h>

namespace airlock::broker {

void LimitRecords::refused(std::string_view bound, audit::AuditRecord record) {
  auto found = tallies_.find(bound);
  if (found == tallies_.end()) found = tallies_.emplace(std::string(bound), Tally{}).first;
  Tally& tally = found->second;
  kj::TimePoint now = timer_.now();
  KJ_IF_MAYBE(last, tally.lastRecord) {
    if (now - *last < LIMIT_RECORD_EVERY) {
      ++tally.unrecorded;
      return;
    }
  }
  record.event = "limit";
  record.decision = "deny";
  record.rule = std::string(bound);
  record.args["unrecorded_since_last"] = tally.unrecorded;
  spdlog::warn("refused by {}: {} ({} more since the last such record)", bound, record.reason,
               tally.unrecorded);
  // Nothing is acted on by this record's strength: a refusal stands whether or not it is written.
  if (!audit_.append(record)) spdlog::error("cannot record a refusal by {}", bound);
  tally.lastRecord = now;
  tally.unrecorded = 0;
}

}  // namespace airlock::broker

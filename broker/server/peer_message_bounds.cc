#include "broker/server/peer_message_bounds.h"

#include <kj/debug.h>

#include <algorithm>

namespace airlock::broker {

size_t authenticatedMaxMessageBytes(const PolicySet& policy) {
  size_t largest = 0;
  for (auto& unit : policy.units) largest = std::max(largest, unit.maxPayloadBytes);
  return largest + MESSAGE_OVERHEAD_BYTES;
}

kj::Promise<size_t> PeerMessageBounds::tryRead(void* buffer, size_t minBytes, size_t maxBytes) {
  return inner().tryRead(buffer, minBytes, maxBytes).then([this, buffer](size_t n) {
    return checked(buffer, n);
  });
}

kj::Promise<PeerMessageBounds::ReadResult> PeerMessageBounds::tryReadWithFds(
    void* buffer, size_t minBytes, size_t maxBytes, kj::AutoCloseFd* fdBuffer, size_t maxFds) {
  return inner().tryReadWithFds(buffer, minBytes, maxBytes, fdBuffer, maxFds)
      .then([this, buffer](ReadResult read) {
        read.byteCount = checked(buffer, read.byteCount);
        return read;
      });
}

size_t PeerMessageBounds::checked(const void* buffer, size_t n) {
  bool authenticated = connection_->authenticated;
  size_t limit = authenticated ? authenticatedMaxMessageBytes(*routing_.policy)
                               : PRE_AUTH_MAX_MESSAGE_BYTES;
  bool tooLarge = frames_.feed(static_cast<const uint8_t*>(buffer), n, limit);
  if (!tooLarge && frames_.openQuestions() <= MAX_OPEN_QUESTIONS_PER_CONNECTION) return n;
  audit::AuditRecord record;
  record.caller = "uid:" + std::to_string(peer_.uid);
  record.args["peer_uid"] = peer_.uid;
  record.args["peer_pid"] = peer_.pid;
  record.args["authenticated"] = authenticated;
  if (!tooLarge) {
    record.args["open_questions"] = frames_.openQuestions();
    record.reason = std::to_string(frames_.openQuestions()) + " questions asked and not "
                    "finished, over the " + std::to_string(MAX_OPEN_QUESTIONS_PER_CONNECTION) +
                    " one connection may hold (MAX_OPEN_QUESTIONS_PER_CONNECTION); connection "
                    "closed";
    refuse("connection.max_open_questions", kj::mv(record));
  }
  const FrameScanner::Header& refused = frames_.refused();
  record.args["segments"] = refused.segments;
  record.args["announced_bytes"] = refused.bytes;
  record.args["max_bytes"] = limit;
  record.reason = refused.segments > FrameScanner::MAX_SEGMENTS
                      ? "a message of " + std::to_string(refused.segments) + " segments (most " +
                            std::to_string(FrameScanner::MAX_SEGMENTS) + "); connection closed"
                      : "a message announcing " + std::to_string(refused.bytes) +
                            " bytes, over the " + std::to_string(limit) + " this connection may "
                            "send " + (authenticated ? "(the largest max_payload_bytes + "
                                                       "MESSAGE_OVERHEAD_BYTES)"
                                                     : "before authenticating "
                                                       "(PRE_AUTH_MAX_MESSAGE_BYTES)") +
                            "; connection closed";
  refuse("connection.max_message_bytes", kj::mv(record));
}

void PeerMessageBounds::refuse(const char* bound, audit::AuditRecord record) {
  routing_.limitRecords.refused(bound, kj::mv(record));
  // As UnreadBudget does: a failed read alone would leave Cap'n Proto waiting on a write.
  inner().shutdownWrite();
  inner().abortRead();
  KJ_FAIL_REQUIRE("host connection refused by a bound on what it may send", bound, peer_.uid,
                  peer_.pid);
}

}  // namespace airlock::broker

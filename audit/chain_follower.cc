#include "audit/chain_follower.h"

#include <kj/debug.h>

#include <nlohmann/json.hpp>

#include "audit/chain.h"
#include "audit/json_fields.h"
#include "audit/record_scanner.h"

namespace airlock::audit {

namespace _ {

using Json = nlohmann::ordered_json;

bool isHexField(const Json& j, const char* key, size_t chars) {
  return isLowerHex(stringField(j, key), chars);
}

}  // namespace _

std::string ChainFollower::checkpoint(const std::string& line) {
  auto j = _::Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!hasUnsignedField(j, "covers") || !_::isHexField(j, "chain", HASH_HEX_CHARS) ||
      !_::isHexField(j, "key", HASH_HEX_CHARS) || !_::isHexField(j, "sig", 2 * HASH_HEX_CHARS) ||
      !j.contains("closing") || !j["closing"].is_boolean() || stringField(j, "time").empty()) {
    return "malformed checkpoint: covers, chain, closing, time, key or sig missing or wrong";
  }
  uint64_t covers = j["covers"].get<uint64_t>();
  std::string chain = j["chain"].get<std::string>();
  if (started_ && (covers != lastSeq_ || chain != lastHash_)) {
    return "modified record: the checkpoint signs seq " + std::to_string(covers) +
           " and its hash, not the record before it (seq " + std::to_string(lastSeq_) + ")";
  }
  PublicKey signer = KJ_ASSERT_NONNULL(PublicKey::fromHex(stringField(j, "key")));
  KJ_IF_MAYBE(trusted, trustedKey_) {
    if (!(signer == *trusted)) {
      return "wrong key: checkpoint signed by key " + signer.hex().substr(0, 16) +
             "…, not by the --key given";
    }
  }
  bool closing = j["closing"].get<bool>();
  std::string input =
      checkpointSigningInput(covers, chain, stringField(j, "time"), closing);
  if (!signer.verifies(input, stringField(j, "sig"))) {
    return "bad signature: the checkpoint's signature does not verify";
  }
  ++checkpoints_;
  afterClosing_ = closing;
  return "";
}

std::string ChainFollower::next(std::string_view line) {
  ++lines_;
  uint64_t seq = 0;
  std::string prev, event;
  KJ_IF_MAYBE(scanned, scanCanonicalRecord(line)) {
    seq = scanned->seq;
    prev = std::string(scanned->prev);
    event = std::string(scanned->event);
  } else {
    auto j = _::Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (!hasUnsignedField(j, "seq") || !_::isHexField(j, "prev", HASH_HEX_CHARS) ||
        !j.contains("event") || !j["event"].is_string()) {
      return "malformed record: not a JSON object with seq, event and prev";
    }
    seq = j["seq"].get<uint64_t>();
    prev = std::string(stringField(j, "prev"));
    event = std::string(stringField(j, "event"));
    if (j.dump(-1, ' ', false, _::Json::error_handler_t::replace) != line) {
      return "modified record: not byte-for-byte in the form airlockd writes";
    }
  }
  std::string finding;
  if (started_) {
    if (seq > lastSeq_ + 1) {
      finding = "deleted record(s): seq " + std::to_string(seq) + " follows seq " +
                std::to_string(lastSeq_);
    } else if (seq <= lastSeq_) {
      finding = "inserted or reordered record: seq " + std::to_string(seq) + " follows seq " +
                std::to_string(lastSeq_);
    } else if (prev != lastHash_) {
      finding = "modified record: its prev is not the hash of the line before it (seq " +
                std::to_string(lastSeq_) + ")";
    } else if (afterClosing_ && event != "broker.start" && event != CONTINUED_EVENT) {
      finding = "inserted record: it follows a closing checkpoint, where only a broker.start can";
    }
  }
  afterClosing_ = false;
  if (finding.empty() && event == "checkpoint") finding = checkpoint(std::string(line));
  started_ = true;
  lastSeq_ = seq;
  lastHash_ = lineHashHex(line);
  return finding;
}

}  // namespace airlock::audit

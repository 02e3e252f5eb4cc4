#include "audit/record_line.h"

#include <charconv>

#include "audit/bounded_field.h"

namespace airlock::audit {

namespace _ {

constexpr char REPLACEMENT_CHARACTER[] = "\xEF\xBF\xBD";

// How many bytes of `text` from `at` form one well-formed UTF-8 sequence (RFC 3629), or, as a
// negative number, how many bytes make the invalid subsequence to replace there: the lead byte
// alone if it can start nothing, else the lead byte and the continuation bytes accepted before
// the one that failed (which is then read again as the start of what follows).
int utf8SequenceAt(std::string_view text, size_t at) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[at + i]); };
  unsigned char lead = byte(0);
  int length;
  unsigned char secondLow = 0x80, secondHigh = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead == 0xe0) {
    length = 3, secondLow = 0xa0;
  } else if ((lead >= 0xe1 && lead <= 0xec) || lead == 0xee || lead == 0xef) {
    length = 3;
  } else if (lead == 0xed) {
    length = 3, secondHigh = 0x9f;  // no UTF-16 surrogates
  } else if (lead == 0xf0) {
    length = 4, secondLow = 0x90;   // no overlong 4-byte forms
  } else if (lead >= 0xf1 && lead <= 0xf3) {
    length = 4;
  } else if (lead == 0xf4) {
    length = 4, secondHigh = 0x8f;  // nothing past U+10FFFF
  } else {
    return -1;
  }
  for (int i = 1; i < length; ++i) {
    if (at + i >= text.size()) return -i;
    unsigned char low = i == 1 ? secondLow : 0x80, high = i == 1 ? secondHigh : 0xbf;
    if (byte(i) < low || byte(i) > high) return -i;
  }
  return length;
}

void appendEscapedControl(std::string& out, unsigned char c) {
  static constexpr char HEX[] = "0123456789abcdef";
  switch (c) {
    case '\b': out += "\\b"; return;
    case '\t': out += "\\t"; return;
    case '\n': out += "\\n"; return;
    case '\f': out += "\\f"; return;
    case '\r': out += "\\r"; return;
    default: break;
  }
  out += "\\u00";
  out += HEX[c >> 4];
  out += HEX[c & 0xf];
}

template <typename Integer>
void appendNumber(std::string& out, Integer value) {
  char digits[24];
  auto written = std::to_chars(digits, digits + sizeof(digits), value);
  out.append(digits, written.ptr);
}

void appendKey(std::string& out, std::string_view key) {
  // Keys are this file's own constants: plain ASCII, nothing to escape.
  out += ",\"";
  out += key;
  out += "\":";
}

// Every string a record holds may have come from a peer: each is held to
// MAX_RECORD_FIELD_BYTES (bounded_field.h) as it is written.
void appendBoundedString(std::string& out, std::string_view value) {
  if (isBounded(value)) {
    appendJsonString(out, value);
  } else {
    appendJsonString(out, boundedField(value));
  }
}

void appendStringField(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  appendKey(out, key);
  appendBoundedString(out, value);
}

bool holdsLongString(const nlohmann::ordered_json& value) {
  if (value.is_string()) return !isBounded(value.get_ref<const std::string&>());
  if (value.is_structured()) {
    for (auto& element : value) {
      if (holdsLongString(element)) return true;
    }
  }
  return false;
}

void boundStrings(nlohmann::ordered_json& value) {
  if (value.is_string()) {
    auto& text = value.get_ref<std::string&>();
    if (!isBounded(text)) text = boundedField(text);
  } else if (value.is_structured()) {
    for (auto& element : value) boundStrings(element);
  }
}

void appendArgs(std::string& out, const nlohmann::ordered_json& args) {
  // Small and of any shape: nlohmann's own dump keeps it exactly canonical.
  auto dump = [&](const nlohmann::ordered_json& value) {
    out += value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  };
  if (!holdsLongString(args)) {
    dump(args);
    return;
  }
  nlohmann::ordered_json bounded = args;
  boundStrings(bounded);
  dump(bounded);
}

}  // namespace _

void appendJsonString(std::string& out, std::string_view text) {
  out += '"';
  size_t plainFrom = 0;
  auto flushPlain = [&](size_t upTo) { out.append(text.data() + plainFrom, upTo - plainFrom); };
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      int sequence = _::utf8SequenceAt(text, i);
      if (sequence > 0) {
        i += sequence;
        continue;
      }
      flushPlain(i);
      out += _::REPLACEMENT_CHARACTER;
      i += -sequence;
      plainFrom = i;
      continue;
    }
    flushPlain(i);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      _::appendEscapedControl(out, c);
    }
    plainFrom = ++i;
  }
  flushPlain(text.size());
  out += '"';
}

std::string formatRecordLine(const RecordHeader& header, const AuditRecord& r) {
  std::string out;
  out.reserve(256);
  out += "{\"seq\":";
  _::appendNumber(out, header.seq);
  _::appendKey(out, "time");
  appendJsonString(out, header.time);
  _::appendKey(out, "event");
  _::appendBoundedString(out, r.event);
  _::appendKey(out, "prev");
  appendJsonString(out, header.prev);
  _::appendStringField(out, "unit", r.unit);
  if (header.learning) out += ",\"mode\":\"learn\"";
  if (r.workerPid != 0) {
    _::appendKey(out, "worker_pid");
    _::appendNumber(out, r.workerPid);
  }
  _::appendStringField(out, "caller", r.caller);
  _::appendStringField(out, "call_id", r.callId);
  if (!r.args.empty()) {
    _::appendKey(out, "args");
    _::appendArgs(out, r.args);
  }
  _::appendStringField(out, "decision", r.decision);
  _::appendStringField(out, "rule", r.rule);
  if (r.policyRev) {
    _::appendKey(out, "policy_rev");
    appendJsonString(out, *r.policyRev);
  }
  _::appendStringField(out, "reason", r.reason);
  _::appendStringField(out, "result", r.result);
  if (r.durationMicros >= 0) {
    _::appendKey(out, "duration_us");
    _::appendNumber(out, r.durationMicros);
  }
  if (r.cpuMicros >= 0) {
    _::appendKey(out, "cpu_us");
    _::appendNumber(out, r.cpuMicros);
  }
  out += '}';
  return out;
}

}  // namespace airlock::audit

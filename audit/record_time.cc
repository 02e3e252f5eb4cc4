#include "audit/record_time.h"

#include <cctype>

namespace airlock::audit {

namespace _ {

constexpr int64_t MICROS_PER_SECOND = 1000000;

// Reads exactly `digits` decimal digits at `at`, advancing it.
bool readNumber(std::string_view text, size_t& at, size_t digits, int& out) {
  if (at + digits > text.size()) return false;
  int value = 0;
  for (size_t i = 0; i < digits; ++i) {
    char c = text[at + i];
    if (!isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + (c - '0');
  }
  at += digits;
  out = value;
  return true;
}

bool expect(std::string_view text, size_t& at, char c) {
  if (at >= text.size() || text[at] != c) return false;
  ++at;
  return true;
}

bool isLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int daysInMonth(int year, int month) {
  static constexpr int DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && isLeapYear(year) ? 29 : DAYS[month - 1];
}

// Days from 1970-01-01 to the given civil date (proleptic Gregorian); H. Hinnant's algorithm.
int64_t daysFromCivil(int year, int month, int day) {
  int64_t y = year - (month <= 2);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yearOfEra = y - era * 400;
  int64_t dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int64_t dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

// YYYY-MM-DD at `at`, validated, as days since the epoch.
kj::Maybe<int64_t> readDate(std::string_view text, size_t& at) {
  int year, month, day;
  if (!readNumber(text, at, 4, year) || !expect(text, at, '-') ||
      !readNumber(text, at, 2, month) || !expect(text, at, '-') ||
      !readNumber(text, at, 2, day)) {
    return nullptr;
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return nullptr;
  return daysFromCivil(year, month, day);
}

// ".fraction" if present, as microseconds (digits past the sixth dropped).
kj::Maybe<int64_t> readFraction(std::string_view text, size_t& at) {
  if (at >= text.size() || text[at] != '.') return int64_t(0);
  ++at;
  size_t start = at;
  int64_t micros = 0;
  while (at < text.size() && isdigit(static_cast<unsigned char>(text[at]))) {
    if (at - start < 6) micros = micros * 10 + (text[at] - '0');
    ++at;
  }
  if (at == start) return nullptr;
  for (size_t digits = at - start; digits < 6; ++digits) micros *= 10;
  return micros;
}

// "Z" or "+HH:MM"/"-HH:MM", as the seconds to subtract to get UTC.
kj::Maybe<int64_t> readOffsetSeconds(std::string_view text, size_t& at) {
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
    return int64_t(0);
  }
  if (at >= text.size() || (text[at] != '+' && text[at] != '-')) return nullptr;
  int sign = text[at++] == '+' ? 1 : -1;
  int hours, minutes;
  if (!readNumber(text, at, 2, hours) || !expect(text, at, ':') ||
      !readNumber(text, at, 2, minutes) || hours > 23 || minutes > 59) {
    return nullptr;
  }
  return int64_t(sign) * (hours * 3600 + minutes * 60);
}

}  // namespace _

kj::Maybe<int64_t> parseRfc3339Micros(std::string_view text) {
  size_t at = 0;
  int64_t days;
  KJ_IF_MAYBE(d, _::readDate(text, at)) { days = *d; } else { return nullptr; }
  if (at >= text.size() || (text[at] != 'T' && text[at] != 't' && text[at] != ' ')) {
    return nullptr;
  }
  ++at;
  int hour, minute, second;
  if (!_::readNumber(text, at, 2, hour) || !_::expect(text, at, ':') ||
      !_::readNumber(text, at, 2, minute) || !_::expect(text, at, ':') ||
      !_::readNumber(text, at, 2, second)) {
    return nullptr;
  }
  // 60 is RFC 3339's leap second; it counts as the next minute's first second.
  if (hour > 23 || minute > 59 || second > 60) return nullptr;
  int64_t fraction, offset;
  KJ_IF_MAYBE(f, _::readFraction(text, at)) { fraction = *f; } else { return nullptr; }
  KJ_IF_MAYBE(o, _::readOffsetSeconds(text, at)) { offset = *o; } else { return nullptr; }
  if (at != text.size()) return nullptr;
  int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset;
  return seconds * _::MICROS_PER_SECOND + fraction;
}

kj::Maybe<int64_t> parseDurationMicros(std::string_view text) {
  if (text.size() < 2 || text.size() > 12) return nullptr;
  int64_t unitSeconds;
  switch (text.back()) {
    case 's': unitSeconds = 1; break;
    case 'm': unitSeconds = 60; break;
    case 'h': unitSeconds = 3600; break;
    case 'd': unitSeconds = 86400; break;
    default: return nullptr;
  }
  int64_t count = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (!isdigit(static_cast<unsigned char>(c))) return nullptr;
    count = count * 10 + (c - '0');  // at most 11 digits: no overflow
  }
  if (count == 0) return nullptr;
  return count * unitSeconds * _::MICROS_PER_SECOND;
}

kj::Maybe<int64_t> parseTimeBound(std::string_view text, int64_t nowMicros) {
  KJ_IF_MAYBE(micros, parseRfc3339Micros(text)) { return *micros; }
  KJ_IF_MAYBE(duration, parseDurationMicros(text)) { return nowMicros - *duration; }
  size_t at = 0;
  KJ_IF_MAYBE(days, _::readDate(text, at)) {
    if (at == text.size()) return *days * 86400 * _::MICROS_PER_SECOND;
  }
  return nullptr;
}

}  // namespace airlock::audit

#pragma once
// Label values that come from peers (a unit or method name a host asked for) kept to a bounded
// set: every distinct value is a time series held in memory and in every scrape for as long as
// airlockd runs, so a host calling a million made-up methods must not make a million series.
// The first `cap` distinct values are kept as they are (printable ASCII; other bytes become
// '?', so a scrape is always valid UTF-8); every later new one is OTHER_LABEL.
// Event-loop thread only.

#include <cstddef>
#include <string>
#include <unordered_set>

namespace airlock::broker::metrics {

inline constexpr char OTHER_LABEL[] = "(other)";

class LabelBound {
 public:
  explicit LabelBound(size_t cap) : cap_(cap) {}

  // `value` printable, or OTHER_LABEL once `cap` other values were seen. The reference is
  // valid until the next call.
  const std::string& admit(const std::string& value);

 private:
  size_t cap_;
  std::unordered_set<std::string> seen_;
  std::string last_;
};

std::string printableLabel(const std::string& value);  // bytes outside 0x20..0x7e as '?'

}  // namespace airlock::broker::metrics

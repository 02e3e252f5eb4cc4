#include "broker/metrics/label_bound.h"

namespace airlock::broker::metrics {

std::string printableLabel(const std::string& value) {
  std::string out = value;
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

const std::string& LabelBound::admit(const std::string& value) {
  last_ = printableLabel(value);
  if (seen_.count(last_) != 0) return last_;
  if (seen_.size() < cap_) {
    seen_.insert(last_);
    return last_;
  }
  last_ = OTHER_LABEL;
  return last_;
}

}  // namespace airlock::broker::metrics

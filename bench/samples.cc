#include "bench/samples.h"

#include <algorithm>
#include <cmath>

namespace airlock::bench {

double Samples::percentileMicros(double p) {
  if (ns_.empty()) return 0;
  if (!sorted_) {
    std::sort(ns_.begin(), ns_.end());
    sorted_ = true;
  }
  size_t index = static_cast<size_t>(std::ceil(p / 100.0 * ns_.size()));
  index = std::min(ns_.size() - 1, index == 0 ? 0 : index - 1);
  return ns_[index] / 1000.0;
}

}  // namespace airlock::bench

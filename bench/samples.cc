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

Figure latency(const std::string& name, Samples samples, const std::string& target) {
  Figure f;
  f.name = name;
  f.unit = "us";
  f.p50 = samples.p50();
  f.p99 = samples.p99();
  f.target = target;
  return f;
}

Figure quantity(const std::string& name, const std::string& unit, double value,
                const std::string& target) {
  Figure f;
  f.name = name;
  f.unit = unit;
  f.value = value;
  f.target = target;
  return f;
}

Figure against(Figure figure, const Figure& baseline) {
  figure.baseline = baseline.name;
  double mine = figure.unit == "us" ? figure.p50 : figure.value;
  double theirs = baseline.unit == "us" ? baseline.p50 : baseline.value;
  figure.ratio = theirs > 0 ? mine / theirs : 0;
  return figure;
}

}  // namespace airlock::bench

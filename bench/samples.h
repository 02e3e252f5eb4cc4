#pragma once
// Latency samples and the figures reported from them.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace airlock::bench {

class Samples {
 public:
  void add(std::chrono::nanoseconds d) { ns_.push_back(d.count()); }
  void addNanos(int64_t ns) { ns_.push_back(ns); }
  void append(const Samples& other) {
    ns_.insert(ns_.end(), other.ns_.begin(), other.ns_.end());
    sorted_ = false;
  }
  size_t count() const { return ns_.size(); }
  double percentileMicros(double p);  // p in [0, 100]
  double p50() { return percentileMicros(50); }
  double p99() { return percentileMicros(99); }

 private:
  std::vector<int64_t> ns_;
  bool sorted_ = false;
};

// Whether a figure meets its issue's target, for the rows the bench judges. The bench only reports:
// no test reads this, because timings on a shared machine cannot fail a build.
enum class TargetMet { NOT_JUDGED, YES, NO };

// One row of the report: a figure and, when it has one, its baseline from the same run.
struct Figure {
  std::string name;       // "host->unit no-op call"
  std::string unit;       // "us" or "calls/s" or "MiB"
  double p50 = 0, p99 = 0;  // for latencies; `value` for throughputs and sizes
  double value = 0;
  std::string baseline;   // name of the baseline figure, empty if none
  double ratio = 0;       // figure / baseline (p50 for latencies)
  std::string target;     // the target, as text
  TargetMet met = TargetMet::NOT_JUDGED;
};

// A latency row from `samples` (sorted in passing, hence the copy).
Figure latency(const std::string& name, Samples samples, const std::string& target = "");

// A throughput, size or duration row.
Figure quantity(const std::string& name, const std::string& unit, double value,
                const std::string& target = "");

// `figure` with `baseline` named and the ratio figure / baseline (p50 for latencies).
Figure against(Figure figure, const Figure& baseline);

}  // namespace airlock::bench

#include "bench/policy_measure.h"

#include <kj/debug.h>

#include <chrono>

#include "broker/policy/decide.h"

namespace airlock::bench {

namespace {

constexpr int DECISIONS_PER_SAMPLE = 100;

policy::UnitPolicy manyRules(int count) {
  policy::UnitPolicy unit;
  unit.name = "bench";
  unit.file = "generated";
  for (int i = 0; i < count; ++i) {
    policy::Rule rule;
    rule.id = "rule-" + std::to_string(i);
    rule.operation = policy::Operation::FS_OPEN;
    rule.effect = i % 10 == 9 ? policy::Effect::DENY : policy::Effect::ALLOW;  // a tenth deny
    std::string error;
    auto pattern = policy::PathPattern::parse(
        "/srv/data" + std::to_string(i) + (i % 2 ? "/**" : "/*.png"), error);
    KJ_REQUIRE(pattern.has_value(), error);
    rule.path = *pattern;
    rule.modes.add(policy::OpenMode::READ);
    unit.rules.push_back(rule);
  }
  policy::indexRules(unit);
  return unit;
}

}  // namespace

Samples measureDecision(int rules, int samples) {
  auto unit = manyRules(rules);
  // The last allow rule with a recursive grant (index ≡ 7 mod 10 is an allow on "/**"), so the
  // scan passes almost every rule.
  int target = rules - 1;
  while (target % 10 != 7) --target;
  std::string path = "/srv/data" + std::to_string(target) + "/a/b/c.png";
  policy::OpenModes read;
  read.add(policy::OpenMode::READ);
  Samples out;
  size_t allowed = 0;
  for (int s = 0; s < samples; ++s) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < DECISIONS_PER_SAMPLE; ++i) {
      allowed += policy::decideFsOpen(unit, path, read).allowed();
    }
    auto elapsed = std::chrono::steady_clock::now() - start;
    out.addNanos(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count() /
                 DECISIONS_PER_SAMPLE);
  }
  KJ_REQUIRE(allowed > 0, "the benchmark path must be allowed by the last rule");
  return out;
}

}  // namespace airlock::bench

#include "bench/policy_measure.h"

#include <kj/debug.h>


#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "broker/policy/decide/decide.h"
#include "broker/policy/load/policy_loader.h"

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
    policy::setOperation(rule, policy::Operation::FS_OPEN);
    rule.effect = i % 10 == 9 ? policy::Effect::DENY : policy::Effect::ALLOW;  // a tenth deny
    std::string error;
    auto pattern = policy::PathPattern::parse(
        "/srv/data" + std::to_string(i) + (i % 2 ? "/**" : "/*.png"), error);
    KJ_REQUIRE(pattern.has_value(), error);
    rule.fs().path = *pattern;
    rule.fs().modes.add(policy::OpenMode::READ);
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

namespace {

// One unit's policy text: a third each of fs.open, call and secrets.get rules.
std::string generatedPolicy(int unit, int rules) {
  std::string text = "[unit]\nname = \"unit-" + std::to_string(unit) +
                     "\"\nworker = \"bench-worker\"\n";
  for (int i = 0; i < rules; ++i) {
    std::string id = "r-" + std::to_string(i);
    switch (i % 3) {
      case 0:
        text += "\n[[rule]]\nid = \"" + id + "\"\nallow = \"fs.open\"\npath = \"/srv/u" +
                std::to_string(unit) + "/d" + std::to_string(i) +
                (i % 2 ? "/**\"\n" : "/*.png\"\n") + "mode = [\"read\"]\n";
        break;
      case 1:
        text += "\n[[rule]]\nid = \"" + id + "\"\nallow = \"call\"\ncaller = [\"client-" +
                std::to_string(i % 50) + "\"]\nmethod = [\"m" + std::to_string(i) + "\"]\n";
        break;
      default:
        text += "\n[[rule]]\nid = \"" + id + "\"\n" + (i % 10 == 2 ? "deny" : "allow") +
                " = \"secrets.get\"\nname = [\"secret-" + std::to_string(i) + "\"]\n";
    }
  }
  return text;
}

}  // namespace

double measurePolicyLoadSeconds(const std::string& dir, int units, int rulesPerUnit,
                                int repeats) {
  std::string policies = dir + "/policies";
  std::filesystem::create_directories(policies);
  for (int u = 0; u < units; ++u) {
    std::ofstream(policies + "/unit-" + std::to_string(u) + ".toml")
        << generatedPolicy(u, rulesPerUnit);
  }
  policy::LoadOptions options;
  options.workerCheck = policy::LoadOptions::WorkerCheck::SKIP;  // the load itself, not a stat
  double best = 1e9;
  for (int r = 0; r < repeats; ++r) {
    auto start = std::chrono::steady_clock::now();
    auto loaded = policy::loadPolicyDir(policies, options);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    KJ_REQUIRE(loaded.ok() && loaded.units.size() == static_cast<size_t>(units),
               "the generated policies must load", loaded.errors.size());
    best = std::min(best, seconds);
  }
  std::filesystem::remove_all(policies);
  return best;
}

}  // namespace airlock::bench

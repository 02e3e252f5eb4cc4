#pragma once
// The fixture of the `airlock run` tests: a policy, an audit log and a scratch directory per
// test, `airlock run` of a program from a directory, and the records that run wrote.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/support/broker_process.h"

namespace airlock::testing {

// `argv` run with `dir` as its working directory (runProgram has no cwd of its own).
inline RunResult runIn(const std::string& dir, const std::vector<std::string>& argv) {
  std::string script = "cd \"$1\" && shift && exec \"$@\"";
  std::vector<std::string> shell = {"/bin/sh", "-c", script, "sh", dir};
  shell.insert(shell.end(), argv.begin(), argv.end());
  return runProgram(shell);
}

class AirlockRunTest : public ::testing::Test {
 protected:
  std::string policy() const { return dir_.file("policy.toml"); }
  std::string auditLog() const { return dir_.file("audit.jsonl"); }

  void writePolicy(const std::string& body) const {
    dir_.write("policy.toml", "[unit]\nname = \"run\"\n\n" + body);
  }

  // `airlock run` of `program` from `cwd`, under policy.toml, auditing to audit.jsonl.
  RunResult run(const std::string& cwd, std::vector<std::string> program) const {
    std::vector<std::string> argv = {binDir() + "/airlock", "run", "--policy", policy(),
                                     "--audit", auditLog(), "--"};
    argv.insert(argv.end(), program.begin(), program.end());
    return runIn(cwd, argv);
  }

  std::vector<nlohmann::json> records(const std::string& event) const {
    std::vector<nlohmann::json> out;
    std::istringstream lines(readFile(auditLog()));
    for (std::string line; std::getline(lines, line);) {
      auto record = nlohmann::json::parse(line);
      if (record.value("event", "") == event) out.push_back(record);
    }
    return out;
  }

  // The first record of `event` for `path`, or null.
  nlohmann::json recordFor(const std::string& event, const std::string& path) const {
    for (auto& record : records(event)) {
      if (record["args"].value("path", "") == path) return record;
    }
    return nullptr;
  }

  void expectLogVerifies() const {
    auto verified = runProgram({binDir() + "/airlock", "audit", "verify", auditLog()});
    EXPECT_EQ(verified.exitCode, 0) << verified.output;
  }

  TempDir dir_;
};

}  // namespace airlock::testing

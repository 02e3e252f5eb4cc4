// Each command's --help is its reference: docs/cli.md holds the same text verbatim.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

std::string cliDocs() {
  std::ifstream in(std::string(AIRLOCK_SOURCE_DIR) + "/docs/cli.md");
  std::stringstream docs;
  docs << in.rdbuf();
  return docs.str();
}

TEST(CliHelp, AdminAndPolicyDiffHelpIsInTheDocsVerbatim) {
  std::string docs = cliDocs();
  for (auto command : {std::vector<std::string>{"reload"}, std::vector<std::string>{"status"},
                       std::vector<std::string>{"drain"},
                       std::vector<std::string>{"sandbox", "run"},
                       std::vector<std::string>{"policy", "diff"}}) {
    std::vector<std::string> argv = {binDir() + "/airlock"};
    argv.insert(argv.end(), command.begin(), command.end());
    argv.push_back("--help");
    auto help = runProgram(argv);
    EXPECT_EQ(help.exitCode, 0) << command.back();
    EXPECT_NE(help.output.find("usage: airlock " + command.front()), std::string::npos)
        << help.output;
    EXPECT_NE(docs.find(help.output), std::string::npos)
        << "docs/cli.md does not contain:\n" << help.output;
  }
}

// Every program, command and subcommand: its --help exits 0 and docs/cli.md holds it verbatim.
TEST(CliHelp, EveryCommandsHelpIsInTheDocsVerbatim) {
  std::string docs = cliDocs();
  std::vector<std::vector<std::string>> commands = {
      {"airlockd"},
      {"airlock-bench"},
      {"airlock"},
      {"airlock", "run"},
      {"airlock", "sandbox"},
      {"airlock", "sandbox", "run"},
      {"airlock", "policy"},
      {"airlock", "policy", "check"},
      {"airlock", "policy", "explain"},
      {"airlock", "policy", "diff"},
      {"airlock", "policy", "suggest"},
      {"airlock", "call"},
      {"airlock", "reload"},
      {"airlock", "status"},
      {"airlock", "drain"},
      {"airlock", "keygen"},
      {"airlock", "audit"},
      {"airlock", "audit", "verify"},
      {"airlock", "audit", "query"},
      {"airlock", "audit", "stats"},
      {"airlock", "audit", "tail"},
      {"airlock", "audit", "report"},
      {"airlock", "audit", "export"},
      {"airlock", "audit", "unused"},
      {"airlock", "doctor"}};
  for (auto command : commands) {
    std::string name;
    for (auto& word : command) name += (name.empty() ? "" : " ") + word;
    SCOPED_TRACE(name);
    command[0] = binDir() + "/" + command[0];
    command.push_back("--help");
    auto help = runProgram(command);
    EXPECT_EQ(help.exitCode, 0) << help.output;
    EXPECT_GT(help.output.size(), 40u) << help.output;
    EXPECT_NE(docs.find(help.output), std::string::npos)
        << "docs/cli.md does not hold this text verbatim:\n" << help.output;
  }
}

TEST(CliHelp, EachCommandGroupsHelpListsItsSubcommandsAsTheDocsDo) {
  std::string docs = cliDocs();
  std::map<std::string, std::vector<std::string>> groups = {
      {"sandbox", {"run"}},
      {"policy", {"check", "explain", "diff", "suggest"}},
      {"audit", {"verify", "query", "stats", "tail", "report"}}};
  for (auto& [group, subcommands] : groups) {
    auto help = runProgram({binDir() + "/airlock", group, "--help"});
    EXPECT_EQ(help.exitCode, 0) << group << ": " << help.output;
    for (auto& sub : subcommands) {
      EXPECT_NE(help.output.find("  " + group + " " + sub + " "), std::string::npos)
          << help.output;
    }
    EXPECT_NE(docs.find(help.output), std::string::npos)
        << "docs/cli.md does not contain:\n" << help.output;
  }
}

TEST(CliHelp, AirlockdHelpDescribesReload) {
  auto help = runProgram({binDir() + "/airlockd", "--help"});
  EXPECT_NE(help.output.find("On SIGHUP it reloads"), std::string::npos) << help.output;
  EXPECT_NE(cliDocs().find("SIGHUP reloads it"), std::string::npos);
}

// The default --workers is where an installed airlockd finds its workers; the docs quote it.
TEST(CliHelp, AirlockdsDefaultWorkersDirectoryIsTheOneTheDocsQuote) {
  auto help = runProgram({binDir() + "/airlockd", "--help"});
  auto start = help.output.find("(default:", help.output.find("--workers DIR"));
  ASSERT_NE(start, std::string::npos) << help.output;
  auto end = help.output.find(')', start);
  ASSERT_NE(end, std::string::npos) << help.output;
  // The help wraps the text over lines; the docs' table row holds it on one.
  std::string quoted;
  for (char c : help.output.substr(start, end + 1 - start)) {
    if (c == ' ' || c == '\n') {
      if (!quoted.empty() && quoted.back() != ' ') quoted += ' ';
    } else {
      quoted += c;
    }
  }
  EXPECT_NE(quoted.find("../lib/airlock/workers"), std::string::npos) << quoted;
  EXPECT_NE(cliDocs().find("`" + quoted + "`"), std::string::npos)
      << "docs/cli.md does not quote airlockd's --workers default: " << quoted;
}

TEST(CliHelp, AdminCommandsRefuseMissingOptionsWithUsage) {
  auto reload = runProgram({binDir() + "/airlock", "reload", "--socket", "/nonexistent"});
  EXPECT_EQ(reload.exitCode, 2);
  EXPECT_NE(reload.output.find("need --socket, --key and --broker-key"), std::string::npos)
      << reload.output;
  auto status = runProgram({binDir() + "/airlock", "status", "--bogus"});
  EXPECT_EQ(status.exitCode, 2);
  EXPECT_NE(status.output.find("unknown or incomplete option \"--bogus\""), std::string::npos)
      << status.output;
}

}  // namespace
}  // namespace airlock::testing

#include "broker/policy/model/operations.h"

#include <gtest/gtest.h>
#include <kj/exception.h>

#include <algorithm>
#include <set>
#include <string>

#include "broker/policy/model/policy.h"
#include "broker/policy/review/explain.h"

namespace airlock::policy {
namespace {

bool takesKey(const OperationRow& row, std::string_view key) {
  return std::find(row.ruleKeys.begin(), row.ruleKeys.end(), key) != row.ruleKeys.end();
}

TEST(OperationsTest, EveryOperationHasItsOwnRowFoundByItsName) {
  std::set<std::string_view> names;
  for (Operation op : ALL_OPERATIONS) {
    const OperationRow& row = operationRow(op);
    EXPECT_EQ(row.operation, op) << row.name;
    EXPECT_TRUE(names.insert(row.name).second) << row.name << " names two rows";
    EXPECT_EQ(operationNamed(row.name), op) << row.name;
    EXPECT_EQ(std::string(operationName(op)), row.name);
  }
  EXPECT_EQ(operationNamed("fs.write"), std::nullopt);
  EXPECT_EQ(operationNamed(""), std::nullopt);
  EXPECT_EQ(operationList(),
            "fs.open, call, secrets.get, fs.stat, fs.list, fs.mkdir, fs.unlink, fs.rename, "
            "fs.symlink, net.connect, invoke, grant");
}

TEST(OperationsTest, TheOperationsDecidedByPathAreTheFsOnesAndTakeAPath) {
  for (Operation op : ALL_OPERATIONS) {
    const OperationRow& row = operationRow(op);
    bool named = row.name.starts_with("fs.");
    EXPECT_EQ(row.decidedByPath(), named) << row.name;
    EXPECT_EQ(isFsOperation(op), named) << row.name;
    bool grant = row.matching == Matching::GRANT;
    EXPECT_EQ(takesKey(row, "path"), named || grant) << row.name;
    EXPECT_EQ(takesKey(row, "mode"), row.matching == Matching::PATH_AND_MODES || grant)
        << row.name;
  }
}

TEST(OperationsTest, OnlyTheOperationsThatChangeTheTreeWriteWithoutAMode) {
  std::set<std::string_view> writers;
  for (Operation op : ALL_OPERATIONS) {
    if (operationRow(op).fsWrite == FsWrite::ALWAYS) writers.insert(operationRow(op).name);
  }
  EXPECT_EQ(writers, (std::set<std::string_view>{"fs.mkdir", "fs.unlink", "fs.rename",
                                                 "fs.symlink"}));
  EXPECT_EQ(operationRow(Operation::FS_OPEN).fsWrite, FsWrite::BY_MODES);
}

TEST(OperationsTest, ExplainRefusesAnArgumentTheRowDoesNotListAndNamesTheOnesItDoes) {
  // Each row's explain arguments reach the message: an unknown one is named with the row's list.
  for (Operation op : ALL_OPERATIONS) {
    const OperationRow& row = operationRow(op);
    Explanation out = explain({}, ExplainRequest{"u", std::string(row.name), {{"bogus", "1"}}});
    std::string expected = "unknown argument \"bogus\" for " + std::string(row.name) + " (takes ";
    EXPECT_EQ(out.error.substr(0, expected.size()), expected);
    for (std::string_view arg : row.explainRequired) {
      EXPECT_NE(out.error.find(arg), std::string::npos) << row.name << " " << arg;
    }
    for (std::string_view arg : row.explainOptional) {
      EXPECT_NE(out.error.find(arg), std::string::npos) << row.name << " " << arg;
    }
  }
}

// A rule carries its own operation's keys and no other: reading another operation's keys fails
// loudly instead of reading empty keys as "matches nothing". The row decides the type.
TEST(OperationsTest, ARuleHoldsOnlyItsOperationsKeysAndReadingOthersFails) {
  for (Operation op : ALL_OPERATIONS) {
    Rule rule;
    setOperation(rule, op);
    EXPECT_EQ(rule.operation, op);
    int readable = 0;
    for (auto read : {+[](const Rule& r) { (void)r.fs(); }, +[](const Rule& r) { (void)r.call(); },
                      +[](const Rule& r) { (void)r.grant(); },
                      +[](const Rule& r) { (void)r.invoke(); },
                      +[](const Rule& r) { (void)r.secrets(); },
                      +[](const Rule& r) { (void)r.net(); }}) {
      bool failed = kj::runCatchingExceptions([&]() { read(rule); }) != nullptr;
      readable += failed ? 0 : 1;
    }
    EXPECT_EQ(readable, 1) << operationName(op) << ": exactly its own keys";
    const OperationRow& row = operationRow(op);
    EXPECT_EQ(rule.pathPattern() != nullptr,
              row.decidedByPath() || row.matching == Matching::GRANT)
        << operationName(op);
    EXPECT_EQ(rule.callers() != nullptr, op == Operation::CALL || op == Operation::GRANT)
        << operationName(op);
    EXPECT_EQ(rule.methodList() != nullptr, op == Operation::CALL || op == Operation::INVOKE)
        << operationName(op);
  }
  Rule call;
  setOperation(call, Operation::CALL);
  call.id = "c";
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() { (void)call.fs().path; })) {
    std::string description = exception->getDescription().cStr();
    EXPECT_NE(description.find("rule \"c\""), std::string::npos) << description;
  } else {
    ADD_FAILURE() << "a call rule's fs keys were read";
  }
}

}  // namespace
}  // namespace airlock::policy

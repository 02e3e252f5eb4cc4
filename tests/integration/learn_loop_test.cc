// Learn mode end to end: a unit starts in mode = "learn" from its shipped policy with every fs
// rule taken out, is fed its benign inputs, `airlock policy suggest` drafts its rules from the
// audit log, and the suggested policy, enforced, serves the same inputs with the same output and
// no deny record, while the hostile inputs are still refused. The suggestion is then held against
// the hand-written shipped policy: nothing it allows may be refused there. And the loud parts:
// every record of a learning unit says so, `airlock status` and airlockd's start-up line do, and
// airlockd --refuse-learn refuses such a set at start and at reload.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "broker/policy/decide/decide.h"
#include "broker/policy/load/policy_loader.h"
#include "sdk/host/client.h"
#include "tests/integration/support/probe_policy.h"
#include "tests/integration/support/broker_process.h"
#include "tests/integration/support/foreign_hosts.h"

namespace airlock::testing {
namespace {

namespace fs = std::filesystem;

using Defines = std::map<std::string, std::string>;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string shipped(const std::string& name) { return shippedPolicy(name); }

// `policy` without its fs.* rules: what a unit starts from when nobody has written them yet.
std::string withoutFsRules(const std::string& policy) {
  const std::string marker = "[[rule]]";
  std::string out;
  size_t at = policy.find(marker);
  out = policy.substr(0, at);
  while (at != std::string::npos) {
    size_t next = policy.find(marker, at + marker.size());
    std::string rule = policy.substr(at, next == std::string::npos ? next : next - at);
    if (!contains(rule, "allow = \"fs.") && !contains(rule, "deny = \"fs.")) out += rule;
    at = next;
  }
  return out;
}

// `policy` learning within `learnPaths` (TOML array text).
std::string learning(const std::string& policy, const std::string& learnPaths) {
  std::string out = policy;
  size_t unit = out.find("[unit]\n");
  EXPECT_NE(unit, std::string::npos);
  out.insert(unit + 7, "mode = \"learn\"\njustification = \"drafting this unit's policy from "
                       "its sample inputs, on a test machine\"\nlearn_paths = " +
                           learnPaths + "\n");
  return out;
}

RunResult airlock(std::vector<std::string> args) {
  args.insert(args.begin(), binDir() + "/airlock");
  return runProgram(args);
}

std::vector<std::string> defineArgs(const Defines& defines) {
  std::vector<std::string> out;
  for (auto& [name, value] : defines) {
    out.push_back("--define");
    out.push_back(name + "=" + value);
  }
  return out;
}

// The records of the audit log `log` whose string field `key` is `value`.
std::vector<nlohmann::json> recordsWhere(const std::string& log, const char* key,
                                         const std::string& value) {
  std::vector<nlohmann::json> out;
  std::istringstream lines(readFile(log));
  for (std::string line; std::getline(lines, line);) {
    auto record = nlohmann::json::parse(line);
    if (record.value(key, "") == value) out.push_back(record);
  }
  return out;
}

// `airlock policy suggest` over `logs` for `unit`, which must succeed.
std::string suggest(const std::vector<std::string>& logs, const std::string& unit,
                    const Defines& defines, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"policy", "suggest", "--unit", unit};
  for (auto& log : logs) {
    args.push_back("--audit");
    args.push_back(log);
  }
  for (auto& arg : defineArgs(defines)) args.push_back(arg);
  args.insert(args.end(), extra.begin(), extra.end());
  RunResult run = airlock(args);
  EXPECT_EQ(run.exitCode, 0) << run.output;
  return run.output;
}

// `airlock policy check` of `text` written to `dir`/name.
RunResult check(const TempDir& dir, const std::string& name, const std::string& text,
                const Defines& defines) {
  dir.write(name, text);
  std::vector<std::string> args = {"policy", "check"};
  for (auto& arg : defineArgs(defines)) args.push_back(arg);
  args.push_back(dir.file(name));
  return airlock(args);
}

size_t denials(const BrokerProcess& broker, const std::string& unit) {
  return broker.auditRecords({{"unit", unit}, {"decision", "deny"}}).size();
}

// Every record of `unit` says the unit learns; true if there was one at least.
void expectEveryRecordLearning(const BrokerProcess& broker, const std::string& unit) {
  auto records = broker.auditRecords({{"unit", unit}});
  ASSERT_FALSE(records.empty());
  for (auto& record : records) EXPECT_EQ(record.value("mode", ""), "learn") << record.dump();
}

// Every entry beneath `root`: path -> "directory" or the file's contents.
std::map<std::string, std::string> treeOf(const std::string& root) {
  std::map<std::string, std::string> tree;
  for (auto& entry : fs::recursive_directory_iterator(root)) {
    std::string relative = entry.path().lexically_relative(root).string();
    tree[relative] = entry.is_directory() ? "directory" : "file: " + readFile(entry.path());
  }
  return tree;
}

// A path the suggested rule's pattern matches: each wildcard segment made a plain name.
std::string samplePath(const std::string& pattern) {
  std::string out;
  std::istringstream parts(pattern.substr(1));
  for (std::string part; std::getline(parts, part, '/');) {
    out += "/" + (part.find('*') != std::string::npos ? std::string("sample") : part);
  }
  return out;
}

// Holds every fs rule of `suggested` against `reference`: a path its pattern matches, with its
// operation and modes, must be allowed there too. Returns the ids of the rules it refuses.
std::vector<std::string> refusedByReference(const policy::UnitPolicy& suggested,
                                            const policy::UnitPolicy& reference) {
  std::vector<std::string> refused;
  for (const policy::Rule& rule : suggested.rules) {
    if (!policy::isFsOperation(rule.operation) || rule.effect != policy::Effect::ALLOW) continue;
    std::string path = samplePath(rule.fs().path.text());
    policy::Decision decision =
        rule.operation == policy::Operation::FS_OPEN
            ? policy::decideFsOpen(reference, path, rule.fs().modes)
            : policy::decideFsPath(reference, rule.operation, path);
    if (!decision.allowed()) refused.push_back(rule.id + " (" + path + ": " + decision.reason + ")");
  }
  return refused;
}

policy::UnitPolicy loadUnit(const std::string& path, const Defines& defines) {
  policy::LoadOptions options;
  options.defines = defines;
  options.workerCheck = policy::LoadOptions::WorkerCheck::SKIP;
  policy::LoadResult loaded = policy::loadPolicyFile(path, options);
  EXPECT_TRUE(loaded.errors.empty()) << (loaded.errors.empty() ? "" : loaded.errors[0].describe());
  return loaded.units.empty() ? policy::UnitPolicy{} : loaded.units[0];
}

// A broker serving `policy` (as `file`) to the demo's client `web`, ready.
std::unique_ptr<BrokerProcess> startForWeb(const std::string& file, const std::string& policy,
                                           const Defines& defines) {
  BrokerOptions options;
  options.clients = {"web"};
  auto broker = std::make_unique<BrokerProcess>(
      std::map<std::string, std::string>{{file, policy}}, defines, options);
  EXPECT_TRUE(broker->waitUntilReady()) << broker->log();
  return broker;
}

class ExtractorLearnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto dir : {"inbox", "out", "canary"}) {
      ASSERT_EQ(mkdir(work_.file(dir).c_str(), 0755), 0) << dir;
    }
    auto samples = runProgram({binDir() + "/extractor-samples", inbox(), canary()});
    ASSERT_EQ(samples.exitCode, 0) << samples.output;
    defines_ = {{"inbox_dir", inbox()}, {"output_dir", out()}};
  }

  void TearDown() override { EXPECT_TRUE(fs::is_empty(canary())) << "an entry escaped"; }

  std::string inbox() const { return work_.file("inbox"); }
  std::string out() const { return work_.file("out"); }
  std::string canary() const { return work_.file("canary"); }

  std::unique_ptr<BrokerProcess> start(const std::string& policy) {
    return startForWeb("extractor.toml", policy, defines_);
  }

  CallOutcome extract(const BrokerProcess& broker, const std::string& archive) {
    auto client = broker.connect("web");
    return client.unit("extractor").call("extract", inbox() + "/" + archive + "\n" + out());
  }

  void emptyOutput() {
    fs::remove_all(out());
    ASSERT_EQ(mkdir(out().c_str(), 0755), 0);
  }

  TempDir work_;
  Defines defines_;
};

TEST_F(ExtractorLearnTest, LearnSuggestEnforceServesTheSampleWithNoDenialAndStillRefusesEscapes) {
  std::string base = withoutFsRules(shipped("extractor.toml"));
  ASSERT_FALSE(contains(base, "fs.")) << base;
  auto learner = start(learning(base, "[\"${inbox_dir}/**\", \"${output_dir}/**\"]"));
  auto learned = extract(*learner, "benign.tar");
  ASSERT_TRUE(learned.ok()) << learned.describe() << learner->log();
  EXPECT_TRUE(contains(learned.payload(), "6 entries: 6 extracted, 0 refused, 0 failed"))
      << learned.payload();
  auto learnedTree = treeOf(out());
  EXPECT_EQ(learnedTree.size(), 6u);
  expectEveryRecordLearning(*learner, "extractor");
  auto mkdirs = learner->auditRecords({{"event", "fs.mkdir"}, {"decision", "learn"}});
  ASSERT_FALSE(mkdirs.empty()) << learner->log();
  EXPECT_EQ(mkdirs[0]["rule"], "default-deny");  // what would have decided it
  EXPECT_TRUE(contains(learner->log(), "unit extractor is LEARNING")) << learner->log();
  EXPECT_TRUE(contains(learner->log(), "LEARNING unit(s): extractor")) << learner->log();
  learner->stop();

  // By default the one archive read is granted exactly, and nothing else in the inbox could be
  // extracted; --collapse 0 makes every directory used a "DIR/*", as a reviewer would widen it.
  std::string narrow = suggest({learner->auditPath()}, "extractor", defines_);
  EXPECT_TRUE(contains(narrow, "path = \"${inbox_dir}/benign.tar\"")) << narrow;
  std::string rules = suggest({learner->auditPath()}, "extractor", defines_, {"--collapse", "0"});
  EXPECT_TRUE(contains(rules, "path = \"${output_dir}/**\"")) << rules;
  EXPECT_TRUE(contains(rules, "path = \"${inbox_dir}/*\"")) << rules;
  EXPECT_TRUE(contains(rules, "request(s), seq ")) << rules;
  // The same log gives the same suggestion.
  EXPECT_EQ(suggest({learner->auditPath()}, "extractor", defines_, {"--collapse", "0"}), rules);
  std::string enforced = base + rules;
  auto checked = check(work_, "enforced.toml", enforced, defines_);
  ASSERT_EQ(checked.exitCode, 0) << checked.output << enforced;

  emptyOutput();
  auto enforcer = start(enforced);
  auto again = extract(*enforcer, "benign.tar");
  ASSERT_TRUE(again.ok()) << again.describe() << enforcer->log();
  EXPECT_EQ(again.payload(), learned.payload());
  EXPECT_EQ(treeOf(out()), learnedTree);
  EXPECT_EQ(denials(*enforcer, "extractor"), 0u) << readFile(enforcer->auditPath());
  EXPECT_TRUE(enforcer->auditRecords({{"decision", "learn"}}).empty());

  // The hostile archives: every escape is still refused, on record.
  for (const char* archive : {"dotdot.tar", "absolute.tar", "symlink.tar", "hardlink.tar"}) {
    extract(*enforcer, archive);
  }
  auto symlinks = enforcer->auditRecords({{"event", "fs.symlink"}});
  ASSERT_FALSE(symlinks.empty());
  for (auto& record : symlinks) EXPECT_EQ(record["decision"], "deny") << record.dump();
  EXPECT_GT(denials(*enforcer, "extractor"), 0u);

  // Nothing the suggestion allows is refused by the hand-written policy.
  work_.write("shipped.toml", shipped("extractor.toml"));
  auto refused = refusedByReference(loadUnit(work_.file("enforced.toml"), defines_),
                                    loadUnit(work_.file("shipped.toml"), defines_));
  EXPECT_TRUE(refused.empty()) << ::testing::PrintToString(refused) << rules;
}

TEST_F(ExtractorLearnTest, WithPolicyTheSuggestionIsADiffThatPatchTurnsIntoTheEnforcedPolicy) {
  std::string base = withoutFsRules(shipped("extractor.toml"));
  std::string learnPolicy = learning(base, "[\"${inbox_dir}/**\", \"${output_dir}/**\"]");
  auto learner = start(learnPolicy);
  ASSERT_TRUE(extract(*learner, "benign.tar").ok()) << learner->log();
  learner->stop();

  work_.write("extractor.toml", learnPolicy);
  std::string diff = suggest({learner->auditPath()}, "extractor", defines_,
                             {"--policy", work_.file("extractor.toml")});
  EXPECT_TRUE(contains(diff, "-mode = \"learn\"\n")) << diff;
  EXPECT_TRUE(contains(diff, "+allow = \"fs.mkdir\"\n")) << diff;
  work_.write("suggestion.diff", diff);
  auto patched = runProgram({"/bin/sh", "-c", "cd '" + work_.path() +
                                                  "' && patch --quiet extractor.toml < suggestion.diff"});
  ASSERT_EQ(patched.exitCode, 0) << patched.output << diff;
  std::string enforced = readFile(work_.file("extractor.toml"));
  EXPECT_FALSE(contains(enforced, "mode = \"learn\"")) << enforced;
  EXPECT_FALSE(contains(enforced, "learn_paths")) << enforced;
  auto checked = check(work_, "extractor.toml", enforced, defines_);
  EXPECT_EQ(checked.exitCode, 0) << checked.output << enforced;

  emptyOutput();
  auto enforcer = start(enforced);
  ASSERT_TRUE(extract(*enforcer, "benign.tar").ok()) << enforcer->log();
  EXPECT_EQ(denials(*enforcer, "extractor"), 0u) << readFile(enforcer->auditPath());
}

class ThumbnailerLearnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto samples = runProgram({binDir() + "/thumbnailer-samples", images_.path()});
    ASSERT_EQ(samples.exitCode, 0) << samples.output;
    defines_ = {{"images_dir", images_.path()}};
  }

  std::unique_ptr<BrokerProcess> start(const std::string& policy) {
    return startForWeb("thumbnailer.toml", policy, defines_);
  }

  RunResult thumbnail(const BrokerProcess& broker, const std::string& path) {
    return runProgram({binDir() + "/thumbnailer-host", "--socket", broker.socket(), "--key",
                       broker.clientKey("web"), "--broker-key", broker.brokerPublicKey(), path});
  }

  std::string learningPolicy() const {
    return learning(withoutFsRules(shipped("thumbnailer.toml")), "[\"${images_dir}/**\"]");
  }

  TempDir images_, work_;
  Defines defines_;
};

TEST_F(ThumbnailerLearnTest, LearnSuggestEnforceDecodesTheSamplesAlikeAndStillRefusesOtherFiles) {
  auto learner = start(learningPolicy());
  std::map<std::string, std::string> outputs;
  for (const char* image : {"sunset.png", "checker.png"}) {
    auto run = thumbnail(*learner, images_.file(image));
    ASSERT_EQ(run.exitCode, 0) << run.output << learner->log();
    outputs[image] = run.output;
  }
  // Outside learn_paths a learning unit denies as it always did.
  auto passwd = thumbnail(*learner, "/etc/passwd");
  EXPECT_NE(passwd.exitCode, 0) << passwd.output;
  auto refused = learner->auditRecords({{"event", "fs.open"}, {"decision", "deny"}});
  ASSERT_EQ(refused.size(), 1u) << readFile(learner->auditPath());
  EXPECT_EQ(refused[0]["args"]["path"], "/etc/passwd");
  expectEveryRecordLearning(*learner, "thumbnailer");
  learner->stop();

  std::string rules = suggest({learner->auditPath()}, "thumbnailer", defines_);
  EXPECT_TRUE(contains(rules, "path = \"${images_dir}/sunset.png\"")) << rules;
  EXPECT_FALSE(contains(rules, "/etc/passwd")) << rules;
  std::string enforced = withoutFsRules(shipped("thumbnailer.toml")) + rules;
  auto checked = check(work_, "thumbnailer.toml", enforced, defines_);
  ASSERT_EQ(checked.exitCode, 0) << checked.output << enforced;

  auto enforcer = start(enforced);
  for (auto& [image, output] : outputs) {
    auto run = thumbnail(*enforcer, images_.file(image));
    EXPECT_EQ(run.exitCode, 0) << run.output;
    EXPECT_EQ(run.output, output) << image;
  }
  EXPECT_EQ(denials(*enforcer, "thumbnailer"), 0u) << readFile(enforcer->auditPath());
  // Hostile: a host file, and a sample nobody decoded while learning (exact paths: narrowest).
  EXPECT_NE(thumbnail(*enforcer, "/etc/passwd").exitCode, 0);
  EXPECT_NE(thumbnail(*enforcer, images_.file("truncated.png")).exitCode, 0);
  EXPECT_EQ(denials(*enforcer, "thumbnailer"), 2u) << readFile(enforcer->auditPath());

  work_.write("shipped.toml", shipped("thumbnailer.toml"));
  auto refusedThere = refusedByReference(loadUnit(work_.file("thumbnailer.toml"), defines_),
                                         loadUnit(work_.file("shipped.toml"), defines_));
  EXPECT_TRUE(refusedThere.empty()) << ::testing::PrintToString(refusedThere) << rules;
}

TEST_F(ThumbnailerLearnTest, TheLogsOfTwoBrokersMakeOneSuggestionWhateverTheirOrder) {
  auto first = start(learningPolicy());
  auto second = start(learningPolicy());
  ASSERT_EQ(thumbnail(*first, images_.file("sunset.png")).exitCode, 0) << first->log();
  ASSERT_EQ(thumbnail(*second, images_.file("checker.png")).exitCode, 0) << second->log();
  first->stop();
  second->stop();

  std::string merged =
      suggest({first->auditPath(), second->auditPath()}, "thumbnailer", defines_);
  EXPECT_TRUE(contains(merged, "${images_dir}/sunset.png")) << merged;
  EXPECT_TRUE(contains(merged, "${images_dir}/checker.png")) << merged;
  // The union does not depend on the order the logs are given in, but for the header naming them.
  std::string reversed =
      suggest({second->auditPath(), first->auditPath()}, "thumbnailer", defines_);
  auto rulesOf = [](const std::string& text) { return text.substr(text.find("\n# Review")); };
  EXPECT_EQ(rulesOf(reversed), rulesOf(merged));

  std::string enforced = withoutFsRules(shipped("thumbnailer.toml")) + merged;
  auto enforcer = start(enforced);
  EXPECT_EQ(thumbnail(*enforcer, images_.file("sunset.png")).exitCode, 0) << enforcer->log();
  EXPECT_EQ(thumbnail(*enforcer, images_.file("checker.png")).exitCode, 0) << enforcer->log();
  EXPECT_EQ(denials(*enforcer, "thumbnailer"), 0u) << readFile(enforcer->auditPath());
}

TEST_F(ThumbnailerLearnTest, ALearningUnitIsShownByStatusAndRefusedByRefuseLearn) {
  // startWithAdmin defines nothing: the images directory is written in.
  std::string policy = learningPolicy();
  policy.replace(policy.find("${images_dir}"), 13, images_.path());
  auto broker = startWithAdmin({{"thumbnailer.toml", policy}});
  auto status = broker->unitStatus(TEST_ADMIN, "thumbnailer");
  EXPECT_EQ(status.value("mode", ""), "learn") << status.dump();
  EXPECT_FALSE(status.value("justification", "").empty()) << status.dump();
  auto table = airlock({"status", "--socket", broker->socket(), "--key",
                        broker->clientKey(TEST_ADMIN), "--broker-key",
                        broker->brokerPublicKey()});
  EXPECT_TRUE(contains(table.output, "LEARNING")) << table.output;
  auto start = broker->auditRecords({{"event", "broker.start"}});
  ASSERT_EQ(start.size(), 1u);
  EXPECT_EQ(start[0]["args"]["learning"], nlohmann::json::array({"thumbnailer"}));

  // At start: airlockd --refuse-learn does not start on a set with a learning unit.
  BrokerOptions refusing;
  refusing.extraArgs = {"--refuse-learn"};
  BrokerProcess refused({{"thumbnailer.toml", learningPolicy()}}, defines_, refusing);
  EXPECT_EQ(refused.waitForExit(), 1) << refused.log();
  // Named where the file says it: the `mode` value, one line below [unit].
  EXPECT_TRUE(contains(refused.log(), "thumbnailer.toml:5:8: unit thumbnailer has mode = "
                                      "\"learn\": airlockd --refuse-learn refuses"))
      << refused.log();
}

TEST_F(ThumbnailerLearnTest, RefuseLearnRefusesAReloadIntoLearningAndKeepsTheEnforcedSet) {
  std::string enforcing = withoutFsRules(shipped("thumbnailer.toml"));
  BrokerOptions refusing;
  refusing.extraArgs = {"--refuse-learn"};
  BrokerProcess broker({{"thumbnailer.toml", enforcing}}, defines_, refusing);
  ASSERT_TRUE(broker.waitUntilReady()) << broker.log();
  broker.dir().write("policies/thumbnailer.toml", learningPolicy());
  ASSERT_EQ(kill(broker.pid(), SIGHUP), 0);
  nlohmann::json reload = broker.waitForRecord({{"event", "policy.reload"}});
  ASSERT_FALSE(reload.is_null()) << broker.log();
  EXPECT_EQ(reload["decision"], "deny") << reload.dump();
  EXPECT_TRUE(contains(reload.dump(), "--refuse-learn")) << reload.dump();
  // The enforcing set stays: a learning request is still denied.
  auto run = thumbnail(broker, images_.file("sunset.png"));
  EXPECT_NE(run.exitCode, 0) << run.output;
  EXPECT_TRUE(broker.auditRecords({{"decision", "learn"}}).empty());
}

// Syscalls: a learning worker runs one its groups do not list (statfs, in fs-metadata), on record
// once and counted; a never-granted one (ptrace) is still refused; the suggestion names the group.
TEST(SyscallLearnTest, ASyscallOutsideTheGroupsRunsOnRecordAndIsSuggestedAsItsGroup) {
  TempDir data;
  std::string learningProbe = probeUnitPolicy("");
  learningProbe.insert(learningProbe.find("[unit]\n") + 7,
                       "mode = \"learn\"\njustification = \"which syscalls does it need\"\n"
                       "learn_paths = [\"" + data.path() + "/**\"]\n");
  auto learner = std::make_unique<BrokerProcess>(
      std::map<std::string, std::string>{{"probe.toml", learningProbe}});
  ASSERT_TRUE(learner->waitUntilReady()) << learner->log();
  {
    auto client = learner->connect();
    for (int i = 0; i < 3; ++i) {
      auto ran = client.unit("probe").call("statfs", "/");
      EXPECT_TRUE(ran.ok()) << ran.describe() << learner->log();
    }
    auto ptrace = client.unit("probe").call("ptrace", "");
    EXPECT_EQ(ptrace.errorKind(), CallErrorKind::UNIT_CRASHED) << ptrace.describe();
  }
  auto learned = learner->auditRecords({{"event", "syscall.learned"}});
  ASSERT_EQ(learned.size(), 1u) << "the first use is recorded, the others counted";
  EXPECT_EQ(learned[0]["args"]["syscall"], "statfs");
  EXPECT_EQ(learned[0]["decision"], "learn");
  EXPECT_EQ(learned[0]["mode"], "learn");
  auto exits = learner->auditRecords({{"event", "worker.exit"}});
  ASSERT_FALSE(exits.empty());
  EXPECT_NE(exits[0].dump().find("ptrace"), std::string::npos) << exits[0].dump();
  EXPECT_EQ(exits[0]["args"]["learned_syscalls"]["statfs"], 3) << exits[0].dump();
  learner->stop();

  std::string rules = suggest({learner->auditPath()}, "probe", {});
  EXPECT_TRUE(contains(rules, "[sandbox]\nsyscalls = [\"fs-metadata\"]\n")) << rules;
  EXPECT_FALSE(contains(rules, "ptrace")) << rules;
  BrokerProcess enforcer({{"probe.toml", probeUnitPolicy("") + rules}});
  ASSERT_TRUE(enforcer.waitUntilReady()) << enforcer.log();
  auto ran = enforcer.connect().unit("probe").call("statfs", "/");
  EXPECT_TRUE(ran.ok()) << ran.describe() << enforcer.log();
  EXPECT_TRUE(enforcer.auditRecords({{"event", "worker.exit"}}).empty());
}

// A program run unmodified under `airlock run` learns syscalls as a worker does: python3 (no site,
// so no user lookup) reads sysinfo at start-up, which no default group lists. Its first use is on
// record before it runs, named with the run's caller; the run's exit counts it; the suggestion
// names its group, and enforced, the same run needs no syscall outside its groups.
TEST(SyscallLearnTest, AProgramUnderAirlockRunLearnsSyscallsOnRecordAndTheSuggestionEnforcesThem) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  TempDir dir;
  auto runPython = [&](const std::string& policy, const std::string& log) {
    dir.write("policy.toml", policy);
    return runProgram({binDir() + "/airlock", "run", "--policy", dir.file("policy.toml"),
                       "--audit", log, "--", "/usr/bin/python3", "-I", "-S", "-c",
                       "print('ran')"});
  };
  std::string learnLog = dir.file("learn.jsonl");
  auto learned = runPython("[unit]\nname = \"run\"\nmode = \"learn\"\njustification = \"which "
                           "syscalls does python3 need\"\nlearn_paths = [\"" + dir.path() +
                           "/**\"]\n", learnLog);
  ASSERT_EQ(learned.exitCode, 0) << learned.output;
  EXPECT_TRUE(contains(learned.output, "ran\n")) << learned.output;
  EXPECT_TRUE(contains(learned.output, "learned syscall sysinfo")) << learned.output;
  auto firsts = recordsWhere(learnLog, "event", "syscall.learned");
  ASSERT_FALSE(firsts.empty()) << readFile(learnLog);
  bool sysinfo = false;
  for (auto& record : firsts) {
    EXPECT_EQ(record["decision"], "learn");
    EXPECT_EQ(record["caller"], "uid:" + std::to_string(getuid()));
    sysinfo = sysinfo || record["args"]["syscall"] == "sysinfo";
  }
  EXPECT_TRUE(sysinfo) << readFile(learnLog);
  auto exits = recordsWhere(learnLog, "event", "run.exit");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_GE(exits[0]["args"]["learned_syscalls"].value("sysinfo", 0), 1) << exits[0].dump();

  std::string rules = suggest({learnLog}, "run", {});
  EXPECT_TRUE(contains(rules, "\"system-info\"")) << rules;
  std::string enforcedLog = dir.file("enforced.jsonl");
  auto enforced = runPython("[unit]\nname = \"run\"\n" + rules, enforcedLog);
  EXPECT_EQ(enforced.exitCode, 0) << enforced.output << rules;
  EXPECT_EQ(enforced.output, "ran\n");
  EXPECT_TRUE(recordsWhere(enforcedLog, "event", "syscall.learned").empty());
  EXPECT_TRUE(recordsWhere(enforcedLog, "event", "run.exit")[0]["args"].value("learned_syscalls",
                                                                nlohmann::json()).is_null());
}

// Without learn mode the same run is killed at sysinfo, naming the group that would allow it:
// learning is what let it run, not a gap in the filter.
TEST(SyscallLearnTest, TheSameRunEnforcingIsKilledAtTheSyscallItWouldHaveLearned) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  TempDir dir;
  dir.write("policy.toml", "[unit]\nname = \"run\"\n");
  auto killed = runProgram({binDir() + "/airlock", "run", "--policy", dir.file("policy.toml"),
                            "--audit", dir.file("log.jsonl"), "--", "/usr/bin/python3", "-I",
                            "-S", "-c", "print('ran')"});
  EXPECT_EQ(killed.exitCode, 128 + SIGSYS) << killed.output;
  EXPECT_TRUE(contains(killed.output, "refused syscall sysinfo")) << killed.output;
  EXPECT_TRUE(contains(killed.output, "system-info")) << killed.output;
}

// A program from the transparent-brokering work, unmodified: xmllint under `airlock run`, its own
// file syscalls brokered, learning which files of its documents directory it opens and stats.
class XmllintLearnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/xmllint", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/xmllint";
    ASSERT_EQ(mkdir(docs().c_str(), 0755), 0);
    dir_.write("docs/doc.xml",
               "<?xml version=\"1.0\"?>\n<book xmlns:xi=\"http://www.w3.org/2001/XInclude\">\n"
               "  <title>Main</title>\n  <xi:include href=\"chapter.xml\"/>\n</book>\n");
    dir_.write("docs/chapter.xml", "<chapter>sibling text</chapter>\n");
    dir_.write("docs/xxe.xml",
               "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
               "\n<r>&x;</r>\n");
  }

  std::string docs() const { return dir_.file("docs"); }

  // `airlock run` of xmllint ARGS from docs/, under `policy`, auditing to `log`.
  RunResult xmllint(const std::string& policy, const std::string& log,
                    const std::vector<std::string>& args) {
    dir_.write("policy.toml", policy);
    std::string command = "cd '" + docs() + "' && exec '" + binDir() + "/airlock' run --policy '" +
                          dir_.file("policy.toml") + "' --audit '" + log +
                          "' -- /usr/bin/xmllint";
    for (auto& arg : args) command += " '" + arg + "'";
    return runProgram({"/bin/sh", "-c", command});
  }

  // The records of `log` whose decision is `decision`.
  std::vector<nlohmann::json> decided(const std::string& log, const std::string& decision) {
    return recordsWhere(log, "decision", decision);
  }

  TempDir dir_;
};

TEST_F(XmllintLearnTest, LearnSuggestEnforceIncludesTheSiblingAlikeAndTheXxeStaysRefused) {
  std::string learnLog = dir_.file("learn.jsonl");
  auto learned = xmllint("[unit]\nname = \"run\"\nmode = \"learn\"\njustification = \"drafting "
                         "xmllint's policy\"\nlearn_paths = [\"" + docs() + "/**\"]\n",
                         learnLog, {"--xinclude", "doc.xml"});
  ASSERT_EQ(learned.exitCode, 0) << learned.output;
  EXPECT_TRUE(contains(learned.output, "sibling text")) << learned.output;
  EXPECT_TRUE(contains(learned.output, "unit run is LEARNING")) << learned.output;
  ASSERT_FALSE(decided(learnLog, "learn").empty()) << readFile(learnLog);
  for (auto& record : decided(learnLog, "learn")) EXPECT_EQ(record["mode"], "learn");

  std::string exact = suggest({learnLog}, "run", {{"docs", docs()}});
  EXPECT_TRUE(contains(exact, "path = \"${docs}/chapter.xml\"")) << exact;
  // Widened to the directory (--collapse 0), so that xxe.xml is read and its entity refused.
  std::string rules = suggest({learnLog}, "run", {{"docs", docs()}}, {"--collapse", "0"});
  EXPECT_TRUE(contains(rules, "path = \"${docs}/*\"")) << rules;
  // The dynamic loader's probes of /etc/ld.so.* lie outside learn_paths: denied while learning,
  // so never suggested, and denied again when enforcing (glibc goes on without them), as under
  // AirlockRunTest's hand-written policy. Every other request of the run must be allowed.
  auto loaderProbes = [this](const std::string& log) {
    std::set<std::string> paths;
    for (auto& record : decided(log, "deny")) paths.insert(record["args"].value("path", ""));
    return paths;
  };
  std::set<std::string> deniedWhileLearning = loaderProbes(learnLog);
  for (auto& path : deniedWhileLearning) EXPECT_TRUE(path.starts_with("/etc/ld.so.")) << path;
  std::string enforcedLog = dir_.file("enforced.jsonl");
  std::string policy = "[unit]\nname = \"run\"\n" + rules;
  std::string absolute = policy;
  for (size_t at; (at = absolute.find("${docs}")) != std::string::npos;) {
    absolute.replace(at, 7, docs());
  }
  auto enforced = xmllint(absolute, enforcedLog, {"--xinclude", "doc.xml"});
  EXPECT_EQ(enforced.exitCode, 0) << enforced.output;
  std::string learnedXml = learned.output;  // without airlock run's LEARNING line
  size_t loud = learnedXml.find("airlock run: unit run is LEARNING");
  ASSERT_NE(loud, std::string::npos);
  learnedXml.erase(loud, learnedXml.find('\n', loud) + 1 - loud);
  EXPECT_EQ(enforced.output, learnedXml);
  EXPECT_TRUE(contains(enforced.output, "sibling text")) << enforced.output;
  EXPECT_EQ(loaderProbes(enforcedLog), deniedWhileLearning) << readFile(enforcedLog);

  // The XXE of /etc/passwd: refused, on record, under the suggested rules.
  auto xxe = xmllint(absolute, enforcedLog, {"--noent", "xxe.xml"});
  EXPECT_FALSE(contains(xxe.output, "root:")) << xxe.output;
  EXPECT_EQ(loaderProbes(enforcedLog).count("/etc/passwd"), 1u) << readFile(enforcedLog);

  // Against the hand-written policy of AirlockRunTest: docs/** read and stat.
  dir_.write("hand.toml", "[unit]\nname = \"run\"\nworker = \"/bin/true\"\n[[rule]]\nid = "
                          "\"read-docs\"\nallow = \"fs.open\"\npath = \"" + docs() +
                          "/**\"\nmode = [\"read\"]\n[[rule]]\nid = \"stat-docs\"\nallow = "
                          "\"fs.stat\"\npath = \"" + docs() + "/**\"\n");
  dir_.write("suggested.toml", "[unit]\nname = \"run\"\nworker = \"/bin/true\"\n" + rules);
  auto refused = refusedByReference(loadUnit(dir_.file("suggested.toml"), {{"docs", docs()}}),
                                    loadUnit(dir_.file("hand.toml"), {}));
  EXPECT_TRUE(refused.empty()) << ::testing::PrintToString(refused) << rules;
}

// With the dynamic loader's own files inside the learning bounds (reads beneath a system
// directory are all learning may do there), the suggestion covers them too, and the enforced run
// of the same command has no deny record at all.
TEST_F(XmllintLearnTest, WithTheLoadersFilesInItsBoundsTheEnforcedRunHasNoDenyRecord) {
  std::string learnLog = dir_.file("learn.jsonl");
  auto learned = xmllint("[unit]\nname = \"run\"\nmode = \"learn\"\njustification = \"drafting "
                         "xmllint's policy\"\nlearn_paths = [\"" + docs() +
                         "/**\", \"/etc/ld.so.*\"]\n",
                         learnLog, {"--xinclude", "doc.xml"});
  ASSERT_EQ(learned.exitCode, 0) << learned.output;
  EXPECT_TRUE(decided(learnLog, "deny").empty()) << readFile(learnLog);
  std::string rules = suggest({learnLog}, "run", {{"docs", docs()}});
  EXPECT_TRUE(contains(rules, "/etc/ld.so.cache")) << rules;
  std::string policy = "[unit]\nname = \"run\"\n" + rules;
  for (size_t at; (at = policy.find("${docs}")) != std::string::npos;) policy.replace(at, 7, docs());
  std::string enforcedLog = dir_.file("enforced.jsonl");
  auto enforced = xmllint(policy, enforcedLog, {"--xinclude", "doc.xml"});
  EXPECT_EQ(enforced.exitCode, 0) << enforced.output << rules;
  EXPECT_TRUE(contains(enforced.output, "sibling text")) << enforced.output;
  EXPECT_TRUE(decided(enforcedLog, "deny").empty()) << readFile(enforcedLog) << rules;
  EXPECT_FALSE(decided(enforcedLog, "allow").empty()) << readFile(enforcedLog);
}

}  // namespace
}  // namespace airlock::testing

#include "broker/policy/load/policy_loader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/policy/decide/decide.h"
#include "broker/policy/model/revision.h"
#include "tests/unit/policy/temp_policy_dir.h"

namespace airlock::policy {
namespace {

using testing::TempPolicyDir;

// All diagnostics as "file:line:col: message" with the temp dir prefix cut to "D".
std::vector<std::string> described(const std::vector<Diagnostic>& list, const TempPolicyDir& dir) {
  std::vector<std::string> out;
  for (const Diagnostic& d : list) {
    std::string text = d.describe();
    for (size_t at; (at = text.find(dir.path())) != std::string::npos;) {
      text.replace(at, dir.path().size(), "D");
    }
    out.push_back(text);
  }
  return out;
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.writeWorker("workers/thumbnailer-worker");
    options_.workersDir = dir_.path() + "/workers";
    options_.defines["images"] = "/srv/images";
  }

  LoadResult loadText(const std::string& text, const std::string& name = "unit.toml") {
    return loadPolicyFile(dir_.write("policies/" + name, text), options_);
  }
  std::vector<std::string> errorsOf(const LoadResult& r) { return described(r.errors, dir_); }

  TempPolicyDir dir_;
  LoadOptions options_;
};

const char* const VALID = R"(# thumbnailer policy
[unit]
name = "thumbnailer"
worker = "thumbnailer-worker"
instances = 2
call_timeout_ms = 250
max_payload_bytes = 4096

[sandbox]
read_only_paths = ["/usr", "/etc/passwd"]

[[rule]]
id = "images-read-only"
allow = "fs.open"
path = "${images}/**"
mode = ["read"]

[[rule]]
id = "no-private"
deny = "fs.open"
path = "/srv/images/private/**"
mode = ["read", "write", "create", "truncate", "append"]

[[rule]]
id = "root-may-thumbnail"
allow = "call"
caller = ["web", "batch"]
caller_uid = [0, 1000]
method = ["thumbnail", "*"]
)";

TEST_F(LoaderTest, AValidFileLoadsEveryField) {
  LoadResult r = loadText(VALID);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  ASSERT_EQ(r.units.size(), 1u);
  const UnitPolicy& u = r.units[0];
  EXPECT_EQ(u.name, "thumbnailer");
  EXPECT_EQ(u.workerPath, dir_.path() + "/workers/thumbnailer-worker");
  EXPECT_EQ(u.instances, 2);
  EXPECT_EQ(u.callTimeout, std::chrono::milliseconds(250));
  EXPECT_EQ(u.maxPayloadBytes, 4096u);
  EXPECT_EQ(u.readOnlyPaths, (std::vector<std::string>{"/usr", "/etc/passwd"}));
  EXPECT_EQ(u.file, dir_.path() + "/policies/unit.toml");
  ASSERT_EQ(u.rules.size(), 3u);

  const Rule& images = u.rules[0];
  EXPECT_EQ(images.id, "images-read-only");
  EXPECT_EQ(images.effect, Effect::ALLOW);
  EXPECT_EQ(images.operation, Operation::FS_OPEN);
  EXPECT_EQ(images.fs().path.text(), "/srv/images/**");
  EXPECT_EQ(images.fs().path.root(), "/srv/images");
  EXPECT_EQ(images.fs().modes.describe(), "read");
  EXPECT_EQ(images.where.line, 12);  // the [[rule]] header

  EXPECT_EQ(u.rules[1].effect, Effect::DENY);
  EXPECT_EQ(u.rules[1].fs().modes.describe(), "read,write,create,truncate,append");

  const Rule& call = u.rules[2];
  EXPECT_EQ(call.operation, Operation::CALL);
  EXPECT_EQ(call.call().callerNames, (std::vector<std::string>{"web", "batch"}));
  EXPECT_EQ(call.call().callerUids, (std::vector<uid_t>{0, 1000}));
  EXPECT_EQ(call.call().methods, (std::vector<std::string>{"thumbnail", "*"}));
  EXPECT_TRUE(r.warnings.empty());
}

TEST_F(LoaderTest, DecisionsOnALoadedPolicyNameTheRuleAndItsLine) {
  LoadResult r = loadText(VALID);
  ASSERT_TRUE(r.ok());
  OpenModes read;
  read.add(OpenMode::READ);
  Decision d = decideFsOpen(r.units[0], "/srv/images/cat.png", read);
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.reason,
            "allowed by rule \"images-read-only\" (" + dir_.path() +
                "/policies/unit.toml:12): path matches /srv/images/**, modes read ⊆ read");
  EXPECT_EQ(decideFsOpen(r.units[0], "/srv/images/private/a", read).ruleId, "no-private");
  EXPECT_EQ(decideCall(r.units[0], Caller{"batch", 1000}, "anything").ruleId, "root-may-thumbnail");
}

TEST_F(LoaderTest, OptionalUnitKeysTakeTheirDefaultsAndNoRulesMeansDenyAll) {
  LoadResult r = loadText("[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  const UnitPolicy& u = r.units[0];
  EXPECT_EQ(u.instances, 1);
  EXPECT_EQ(u.callTimeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(u.maxPayloadBytes, 1u << 20);
  EXPECT_TRUE(u.readOnlyPaths.empty());
  EXPECT_TRUE(u.rules.empty());
  EXPECT_FALSE(decideCall(u, Caller{"web", 0}, "x").allowed());
}

TEST_F(LoaderTest, AnUnknownModeIsReportedAtTheElementWithTheExpectedValues) {
  LoadResult r = loadText(R"([unit]
name = "thumbnailer"
worker = "thumbnailer-worker"

[[rule]]
id = "x"
allow = "fs.open"
path = "/srv/**"
mode = ["read", "exec"]
)");
  EXPECT_EQ(errorsOf(r), (std::vector<std::string>{
                             "D/policies/unit.toml:9:17: rule \"x\": unknown mode \"exec\" "
                             "(expected read, write, create, truncate, append)"}));
  EXPECT_TRUE(r.units.empty());
}

TEST_F(LoaderTest, EveryProblemInAFileIsCollectedWithItsLocation) {
  LoadResult r = loadText(R"([unit]
name = "Thumb nailer"
worker = 7
instances = 0
colour = "blue"

[sandbox]
read_only_paths = ["relative/path", "/does/not/exist/airlock"]

[networking]
on = true

[[rule]]
id = "a"
allow = "fs.open"
deny = "call"

[[rule]]
id = "a"
allow = "call"
path = "/srv/**"
caller_uid = [-1]
caller = ["Web"]
method = []

[[rule]]
allow = "fs.open"
path = "/srv/../etc/**"
mode = "read"

[[rule]]
id = "default-deny"
allow = "fs.write"

[[rule]]
id = "b"
allow = "fs.open"
path = "${nope}/x"
mode = ["read", "read"]
caller_uid = [0]
)");
  EXPECT_EQ(
      errorsOf(r),
      (std::vector<std::string>{
          "D/policies/unit.toml:2:8: [unit] name \"Thumb nailer\": expected 1 to 64 of a-z, "
          "0-9 and '-'",
          "D/policies/unit.toml:3:10: [unit]: worker must be a string, got integer",
          "D/policies/unit.toml:4:13: [unit] instances: 0 is out of range 1..16",
          "D/policies/unit.toml:5:1: [unit]: unknown key \"colour\" (expected name, worker, "
          "python_worker, program, "
          "instances, call_timeout_ms, max_payload_bytes, restart, crash_loop_limit, "
          "crash_loop_window_ms, max_calls_in_flight, max_calls_per_second, calls_burst, "
          "max_requests_per_second, requests_burst, interface, mode, learn_paths, learn_hosts, "
          "justification, worker_reuse)",
          "D/policies/unit.toml:8:20: [sandbox] read_only_paths \"relative/path\": path is "
          "not absolute",
          "D/policies/unit.toml:8:37: [sandbox] read_only_paths \"/does/not/exist/airlock\": "
          "does not exist (No such file or directory)",
          "D/policies/unit.toml:10:2: unknown top-level key or table \"networking\" "
          "(expected [unit], [sandbox], [limits], [resources], [[rule]]; or [broker] alone)",
          "D/policies/unit.toml:16:1: rule \"a\": has both allow and deny; a rule has exactly "
          "one",
          "D/policies/unit.toml:19:6: rule \"a\": duplicate rule id (first at "
          "D/policies/unit.toml:14:6)",
          "D/policies/unit.toml:21:1: rule \"a\": key \"path\" applies only to fs.*, grant "
          "rules, not call",
          "D/policies/unit.toml:22:15: rule \"a\": caller_uid -1 is not a uid (0..4294967294)",
          "D/policies/unit.toml:23:11: rule \"a\": caller \"Web\": client name may hold only a-z, "
          "0-9 and '-'",
          "D/policies/unit.toml:24:10: rule \"a\": method must not be empty",
          "D/policies/unit.toml:26:1: rule #3: missing required key \"id\"",
          "D/policies/unit.toml:28:8: rule #3: path \"/srv/../etc/**\": '.' and '..' segments "
          "are not allowed",
          "D/policies/unit.toml:29:8: rule #3: mode must be an array of strings, got string",
          "D/policies/unit.toml:32:6: rule #4: id \"default-deny\" is reserved for the "
          "implicit final rule",
          "D/policies/unit.toml:33:9: rule \"default-deny\": unknown operation \"fs.write\" "
          "(expected fs.open, call, secrets.get, fs.stat, fs.list, fs.mkdir, fs.unlink, "
          "fs.rename, fs.symlink, net.connect, invoke, grant)",
          "D/policies/unit.toml:38:8: rule \"b\": path \"${nope}/x\": undefined variable "
          "${nope} (define it with --define nope=VALUE)",
          "D/policies/unit.toml:39:17: rule \"b\": mode \"read\" is listed twice",
          "D/policies/unit.toml:40:1: rule \"b\": key \"caller_uid\" applies only to call, "
          "grant rules, not fs.open",
      }));
  EXPECT_TRUE(r.units.empty());
}

TEST_F(LoaderTest, AnUnknownRuleKeyListsEveryKeyARuleMayHave) {
  LoadResult r = loadText(
      "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n\n[[rule]]\nid = \"r\"\n"
      "allow = \"call\"\ncaller = [\"web\"]\nmethod = [\"*\"]\ncolour = \"red\"\n");
  EXPECT_EQ(errorsOf(r),
            (std::vector<std::string>{
                "D/policies/unit.toml:10:1: rule \"r\": unknown key \"colour\" (expected id, "
                "allow, deny, path, mode, granted_only, caller, caller_uid, caller_unit, "
                "method, name, host, port, unix_path, unit, descriptors, justification)"}));
}

TEST_F(LoaderTest, MissingRequiredKeysAreReportedAtTheirTable) {
  LoadResult r = loadText("[unit]\nname = \"a\"\n\n[[rule]]\nid = \"r\"\nallow = \"call\"\n");
  EXPECT_EQ(errorsOf(r),
            (std::vector<std::string>{
                "D/policies/unit.toml:1:1: [unit]: missing required key \"worker\" (or "
                "\"python_worker\" for a Python script, \"program\" for a program run once per "
                "call)",
                "D/policies/unit.toml:4:1: rule \"r\": missing required key \"caller\" (or "
                "\"caller_unit\" for units that invoke)",
                "D/policies/unit.toml:4:1: rule \"r\": missing required key \"method\"",
            }));
}

TEST_F(LoaderTest, ACallRuleWithOnlyCallerUidIsAnErrorThatSaysWhatChanged) {
  LoadResult r = loadText(
      "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n\n[[rule]]\nid = \"r\"\n"
      "allow = \"call\"\ncaller_uid = [0]\nmethod = [\"*\"]\n");
  ASSERT_EQ(errorsOf(r).size(), 1u);
  EXPECT_EQ(errorsOf(r)[0].rfind("D/policies/unit.toml:5:1: rule \"r\": missing required key "
                                 "\"caller\": call rules name client identities",
                                 0),
            0u)
      << errorsOf(r)[0];
}

TEST_F(LoaderTest, CallerNamesAreValidatedAndUniqueAtTheirElement) {
  LoadResult r = loadText(
      "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n\n[[rule]]\nid = \"r\"\n"
      "allow = \"call\"\ncaller = [\"web\", \"web\", \"\", 3]\nmethod = [\"*\"]\n");
  EXPECT_EQ(errorsOf(r),
            (std::vector<std::string>{
                "D/policies/unit.toml:8:29: rule \"r\": caller element must be a string, got "
                "integer",
            }));
  r = loadText(
      "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n\n[[rule]]\nid = \"r\"\n"
      "allow = \"call\"\ncaller = [\"web\", \"web\", \"\"]\nmethod = [\"*\"]\n");
  EXPECT_EQ(errorsOf(r),
            (std::vector<std::string>{
                "D/policies/unit.toml:8:18: rule \"r\": caller \"web\" is listed twice",
                "D/policies/unit.toml:8:25: rule \"r\": caller \"\": client name is empty",
            }));
}

TEST_F(LoaderTest, ARuleWithNeitherAllowNorDenyIsAnError) {
  LoadResult r =
      loadText("[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n[[rule]]\nid = \"r\"\n");
  EXPECT_EQ(errorsOf(r),
            (std::vector<std::string>{
                "D/policies/unit.toml:4:1: rule \"r\": missing allow = \"OP\" or deny = "
                "\"OP\" (OP: fs.open, call, secrets.get, fs.stat, fs.list, fs.mkdir, fs.unlink, "
                "fs.rename, fs.symlink, net.connect, invoke, grant)"}));
}

TEST_F(LoaderTest, AFileWithoutAUnitTableIsAnErrorAtItsStart) {
  LoadResult r = loadText("# nothing here\n");
  EXPECT_EQ(errorsOf(r), (std::vector<std::string>{
                             "D/policies/unit.toml:1:1: missing [unit] table (every policy file "
                             "describes one unit)"}));
}

TEST_F(LoaderTest, RuleAsAPlainTableIsExplained) {
  LoadResult r =
      loadText("[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n[rule]\nid = \"r\"\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message, "rule must be an array of tables (write [[rule]]), got table");
}

TEST_F(LoaderTest, ATomlSyntaxErrorGivesTheParsersLineAndColumn) {
  LoadResult r = loadText("[unit]\nname = \"a\"\nworker = \n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].where.line, 3);
  EXPECT_EQ(r.errors[0].where.column, 10);
  EXPECT_EQ(r.errors[0].message.rfind("TOML syntax error: ", 0), 0u) << r.errors[0].message;

  LoadResult dup = loadText("[unit]\nname = \"a\"\nname = \"b\"\n");
  ASSERT_EQ(dup.errors.size(), 1u);
  EXPECT_EQ(dup.errors[0].where.line, 3);
}

TEST_F(LoaderTest, DefinesExpandInRulePathsAndReadOnlyPaths) {
  options_.defines["etc"] = "/etc";
  LoadResult r = loadText(R"([unit]
name = "a"
worker = "thumbnailer-worker"
[sandbox]
read_only_paths = ["${etc}/passwd"]
[[rule]]
id = "r"
allow = "fs.open"
path = "${images}/sub${etc}/*.conf"
mode = ["read"]
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.units[0].readOnlyPaths[0], "/etc/passwd");
  EXPECT_EQ(r.units[0].rules[0].fs().path.text(), "/srv/images/sub/etc/*.conf");
}

// A read-only path is bound as it resolves: through a symlink in a directory anyone may write,
// whoever replaced the link would choose the host tree the worker reads. Links only root (or
// airlock's own user) can replace, like /bin/sh and the merged-/usr ones, are followed.
TEST_F(LoaderTest, AReadOnlyPathThroughASymlinkOthersMayReplaceIsRefused) {
  std::string shared = dir_.path() + "/shared";
  ASSERT_EQ(mkdir(shared.c_str(), 0777), 0);
  ASSERT_EQ(chmod(shared.c_str(), 01777), 0);  // as /tmp is
  ASSERT_EQ(symlink("/etc", (shared + "/etc-link").c_str()), 0);
  ASSERT_EQ(symlink("/etc", (dir_.path() + "/own-link").c_str()), 0);
  options_.defines["shared"] = shared;
  options_.defines["own"] = dir_.path() + "/own-link";
  LoadResult r = loadText(R"([unit]
name = "a"
worker = "thumbnailer-worker"
[sandbox]
read_only_paths = ["/bin/sh", "${own}/hostname", "${shared}/etc-link/passwd"]
)");
  EXPECT_EQ(errorsOf(r),
            (std::vector<std::string>{
                "D/policies/unit.toml:5:50: [sandbox] read_only_paths "
                "\"${shared}/etc-link/passwd\": resolves through the symlink \"D/shared/etc-link\", "
                "which a user other than root or airlock's own may replace: name the path it "
                "leads to, \"/etc/passwd\""}));
}

// The host's /proc and /sys are never a read-only path: they show every host process (with its
// command line) and the machine's devices, past the worker's own PID namespace. And a control
// byte the file put in a value is shown escaped, never sent to the terminal.
TEST_F(LoaderTest, HostKernelInterfacesAreNeverReadOnlyPathsAndControlBytesAreShownEscaped) {
  LoadResult r = loadText("[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n[sandbox]\n"
                          "read_only_paths = [\"/proc\", \"/sys/kernel\", \"/procfs-not\"]\n"
                          "[[rule]]\nid = \"r\\u001b[2Jx\"\nallow = \"fs.open\"\n"
                          "path = \"/srv/**\"\nmode = [\"read\"]\n");
  std::vector<std::string> errors = errorsOf(r);
  ASSERT_EQ(errors.size(), 4u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0], "D/policies/unit.toml:5:20: [sandbox] read_only_paths \"/proc\": is the "
                       "host's /proc, never bound into a sandbox");
  EXPECT_EQ(errors[1], "D/policies/unit.toml:5:29: [sandbox] read_only_paths \"/sys/kernel\": is "
                       "the host's /sys, never bound into a sandbox");
  EXPECT_NE(errors[2].find("\"/procfs-not\": does not exist"), std::string::npos) << errors[2];
  EXPECT_NE(errors[3].find("id \"r\\x1b[2Jx\""), std::string::npos) << errors[3];
}

TEST_F(LoaderTest, ADefineMayNotSmuggleInAWildcardOrBreakThePattern) {
  options_.defines["wide"] = "/srv/*";
  options_.defines["slash"] = "/srv/";
  LoadResult r = loadText(R"([unit]
name = "a"
worker = "thumbnailer-worker"
[[rule]]
id = "r1"
allow = "fs.open"
path = "${wide}/x"
mode = ["read"]
[[rule]]
id = "r2"
allow = "fs.open"
path = "${slash}/x"
mode = ["read"]
[[rule]]
id = "r3"
allow = "fs.open"
path = "${images"
mode = ["read"]
)");
  EXPECT_EQ(errorsOf(r),
            (std::vector<std::string>{
                "D/policies/unit.toml:7:8: rule \"r1\": path \"${wide}/x\": variable ${wide} = "
                "\"/srv/*\" contains '*' or '${'; a define must be a literal path",
                "D/policies/unit.toml:12:8: rule \"r2\": path \"${slash}/x\" (expanded to "
                "\"/srv//x\"): empty path segment (\"//\" or a trailing '/')",
                "D/policies/unit.toml:17:8: rule \"r3\": path \"${images\": unterminated \"${\"",
            }));
}

TEST_F(LoaderTest, AWholeFilesystemGrantNeedsAJustification) {
  const std::string head = "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n";
  const std::string rule = "[[rule]]\nid = \"all\"\nallow = \"fs.open\"\npath = \"/**\"\n"
                           "mode = [\"read\"]\n";
  EXPECT_EQ(errorsOf(loadText(head + rule)),
            (std::vector<std::string>{
                "D/policies/unit.toml:4:1: rule \"all\": grants the whole file system (path "
                "\"/**\"): a dangerous allowance needs justification = \"...\" saying why (the "
                "security team's review; see docs/policy.md)"}));
  LoadResult justified =
      loadText(head + rule + "justification = \"the indexer reads every file; ticket SEC-12\"\n");
  ASSERT_TRUE(justified.ok()) << ::testing::PrintToString(errorsOf(justified));
  EXPECT_EQ(justified.units[0].rules[0].justification,
            "the indexer reads every file; ticket SEC-12");
  // Blank, or only invisible characters (a zero-width space, a BOM, a NUL): nothing a reviewer
  // would see.
  for (const char* invisible : {"  ", "\\u200b", "\\ufeff \\u00a0", "\\u0000"}) {
    EXPECT_EQ(errorsOf(loadText(head + rule + "justification = \"" + invisible + "\"\n")),
              (std::vector<std::string>{"D/policies/unit.toml:9:17: rule \"all\": justification "
                                        "must say why in visible text, not be empty"}))
        << invisible;
  }
  EXPECT_TRUE(loadText(head + rule + "justification = \"\u00e9tendu\"\n").ok());
}

TEST_F(LoaderTest, LimitsAreReadWithinTheirBoundsAndDefaultToTheSandboxs) {
  const std::string head = "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n";
  auto r = loadText(head + "[limits]\nmemory_mib = 256\nopen_files = 32\nthreads = 8\n"
                           "file_size_mib = 0\ncpu_seconds = 30\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.units[0].limits, (WorkerLimits{256, 32, 8, 0, 30}));
  auto defaults = loadText(head);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.units[0].limits, WorkerLimits{});
  EXPECT_EQ(errorsOf(loadText(head + "[limits]\nmemory_mib = 8\nthreads = \"8\"\nswap = 1\n")),
            (std::vector<std::string>{
                "D/policies/unit.toml:5:14: [limits] memory_mib: 8 is out of range 64..1048576",
                "D/policies/unit.toml:6:11: [limits]: threads must be an integer, got string",
                "D/policies/unit.toml:7:1: [limits]: unknown key \"swap\" (expected memory_mib, "
                "open_files, threads, file_size_mib, cpu_seconds)"}));
}

TEST_F(LoaderTest, ResourcesAreReadWithinTheirBoundsAndBestEffortNeedsAJustification) {
  const std::string head = "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n";
  auto r = loadText(head + "[resources]\nmemory_max_mib = 256\nmemory_high_mib = 200\n"
                           "cpu_max_percent = 150\ncpu_weight = 50\npids_max = 32\nio_weight = 10\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  const UnitResources& set = r.units[0].resources;
  EXPECT_EQ(set.get(ResourceKey::MEMORY_MAX_MIB), 256u);
  EXPECT_EQ(set.get(ResourceKey::MEMORY_HIGH_MIB), 200u);
  EXPECT_EQ(set.get(ResourceKey::CPU_MAX_PERCENT), 150u);
  EXPECT_EQ(set.get(ResourceKey::CPU_WEIGHT), 50u);
  EXPECT_EQ(set.get(ResourceKey::PIDS_MAX), 32u);
  EXPECT_EQ(set.get(ResourceKey::IO_WEIGHT), 10u);
  EXPECT_EQ(r.units[0].resourcesEnforcement, LayerStrictness::REQUIRED);
  auto none = loadText(head);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.units[0].resources.any());
  EXPECT_EQ(errorsOf(loadText(head + "[resources]\ncpu_weight = 0\nmemory_max_mib = 64\n"
                                     "memory_high_mib = 128\nswap_mib = 1\n")),
            (std::vector<std::string>{
                "D/policies/unit.toml:5:14: [resources] cpu_weight: 0 is out of range 1..10000",
                "D/policies/unit.toml:7:19: [resources] memory_high_mib is above memory_max_mib: "
                "the workers would be killed before they are ever reclaimed; lower it or drop it",
                "D/policies/unit.toml:8:1: [resources]: unknown key \"swap_mib\" (expected "
                "memory_max_mib, memory_high_mib, cpu_max_percent, cpu_weight, pids_max, "
                "io_weight)"}));
  EXPECT_EQ(errorsOf(loadText(head + "[sandbox]\nresources = \"best-effort\"\n")),
            (std::vector<std::string>{
                "D/policies/unit.toml:5:13: [sandbox] resources = \"best-effort\" lets the "
                "workers run without a [resources] limit the machine cannot enforce: a dangerous "
                "allowance needs justification = \"...\" in [sandbox] saying why"}));
  auto lenient = loadText(head + "[sandbox]\nresources = \"best-effort\"\n"
                                 "justification = \"no io scheduler here\"\n");
  ASSERT_TRUE(lenient.ok()) << ::testing::PrintToString(errorsOf(lenient));
  EXPECT_EQ(lenient.units[0].resourcesEnforcement, LayerStrictness::BEST_EFFORT);
}

TEST_F(LoaderTest, RestartAndCrashLoopKeysAreReadWithWhereTheyWereWritten) {
  const std::string head = "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n";
  auto defaults = loadText(head);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.units[0].restart.policy, RestartPolicy::ALWAYS);
  EXPECT_EQ(defaults.units[0].restart.crashLoopLimit, 0) << "no crash-loop parking by default";
  EXPECT_TRUE(defaults.units[0].restart.isDefault());

  auto r = loadText(head + "restart = \"on-failure\"\ncrash_loop_limit = 5\n"
                           "crash_loop_window_ms = 30000\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  const RestartSettings& restart = r.units[0].restart;
  EXPECT_EQ(restart.policy, RestartPolicy::ON_FAILURE);
  EXPECT_EQ(restart.crashLoopLimit, 5);
  EXPECT_EQ(restart.crashLoopWindow, std::chrono::milliseconds(30000));
  EXPECT_EQ(restart.policyWhere.line, 4);
  EXPECT_EQ(restart.limitWhere.line, 5);
  EXPECT_EQ(loadText(head + "restart = \"never\"\n").units[0].restart.policy,
            RestartPolicy::NEVER);

  EXPECT_EQ(errorsOf(loadText(head + "restart = \"sometimes\"\ncrash_loop_limit = 0\n"
                                     "crash_loop_window_ms = 5\n")),
            (std::vector<std::string>{
                "D/policies/unit.toml:4:11: [unit] restart \"sometimes\": expected \"always\", "
                "\"on-failure\" or \"never\"",
                "D/policies/unit.toml:5:20: [unit] crash_loop_limit: 0 is out of range 1..1000",
                "D/policies/unit.toml:6:24: [unit] crash_loop_window_ms: 5 is out of range "
                "100..86400000"}));
  EXPECT_EQ(errorsOf(loadText(head + "crash_loop_window_ms = 1000\n")),
            (std::vector<std::string>{
                "D/policies/unit.toml:4:24: [unit] crash_loop_window_ms has no effect without "
                "crash_loop_limit: add crash_loop_limit = N (N crashes within the window park "
                "the unit)"}));
}

TEST_F(LoaderTest, WorkerReuseIsReadWithWhereItWasWrittenAndABadValueNamesItsLine) {
  const std::string head = "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n";
  auto defaults = loadText(head);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.units[0].workerReuse.reuse, WorkerReuse::ANY) << "today's behaviour";
  for (auto [text, reuse] : {std::pair{"any", WorkerReuse::ANY},
                             std::pair{"per-caller", WorkerReuse::PER_CALLER},
                             std::pair{"never", WorkerReuse::NEVER}}) {
    auto r = loadText(head + "instances = 2\nworker_reuse = \"" + text + "\"\n");
    ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
    EXPECT_EQ(r.units[0].workerReuse.reuse, reuse) << text;
    EXPECT_EQ(r.units[0].workerReuse.where.line, 5) << text;
  }
  EXPECT_EQ(errorsOf(loadText(head + "worker_reuse = \"sometimes\"\n")),
            (std::vector<std::string>{
                "D/policies/unit.toml:4:16: [unit] worker_reuse \"sometimes\": expected "
                "\"any\", \"per-caller\" or \"never\""}));
  EXPECT_EQ(errorsOf(loadText(head + "worker_reuse = 1\n")),
            (std::vector<std::string>{
                "D/policies/unit.toml:4:16: [unit]: worker_reuse must be a string, got integer"}));
}

TEST_F(LoaderTest, FlowLimitKeysAreReadWithinTheirBoundsWithWhereTheyWereWritten) {
  const std::string head = "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n";
  auto defaults = loadText(head);
  ASSERT_TRUE(defaults.ok());
  EXPECT_TRUE(defaults.units[0].flow.isDefault()) << "no flow limit unless asked for";

  auto r = loadText(head + "max_calls_in_flight = 8\nmax_calls_per_second = 100\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  const FlowLimits& flow = r.units[0].flow;
  EXPECT_EQ(flow.maxCallsInFlight, 8u);
  EXPECT_EQ(flow.maxCallsPerSecond, 100u);
  EXPECT_EQ(flow.burst(), 100u) << "the burst defaults to the rate";
  EXPECT_EQ(flow.inFlightWhere.line, 4);
  EXPECT_EQ(flow.perSecondWhere.line, 5);
  EXPECT_EQ(loadText(head + "max_calls_per_second = 10\ncalls_burst = 50\n").units[0].flow.burst(),
            50u);

  EXPECT_EQ(errorsOf(loadText(head + "max_calls_in_flight = 0\nmax_calls_per_second = -1\n")),
            (std::vector<std::string>{
                "D/policies/unit.toml:4:23: [unit] max_calls_in_flight: 0 is out of range "
                "1..100000",
                "D/policies/unit.toml:5:24: [unit] max_calls_per_second: -1 is out of range "
                "1..1000000"}));
  EXPECT_EQ(errorsOf(loadText(head + "calls_burst = 3\n")),
            (std::vector<std::string>{
                "D/policies/unit.toml:4:15: [unit] calls_burst has no effect without "
                "max_calls_per_second: add max_calls_per_second = N (the rate the burst "
                "refills at)"}));
}

TEST_F(LoaderTest, RequestPaceKeysHaveDefaultsAndBounds) {
  const std::string head = "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n";
  auto defaults = loadText(head);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.units[0].requests.maxRequestsPerSecond, DEFAULT_REQUESTS_PER_SECOND)
      << "every unit is paced unless its policy says otherwise";
  EXPECT_EQ(defaults.units[0].requests.requestsBurst, DEFAULT_REQUESTS_BURST);
  EXPECT_TRUE(defaults.units[0].requests.isDefault());

  auto r = loadText(head + "max_requests_per_second = 50000\nrequests_burst = 500\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.units[0].requests.maxRequestsPerSecond, 50000u);
  EXPECT_EQ(r.units[0].requests.requestsBurst, 500u);
  EXPECT_NE(canonicalForm(r.units[0]), canonicalForm(defaults.units[0]))
      << "a pace other than the default is in the revision";
  EXPECT_EQ(canonicalForm(loadText(head + "max_requests_per_second = 1000\n").units[0]),
            canonicalForm(defaults.units[0]))
      << "the default written out keeps the revision";

  EXPECT_EQ(errorsOf(loadText(head + "max_requests_per_second = 0\nrequests_burst = 1000001\n")),
            (std::vector<std::string>{
                "D/policies/unit.toml:4:27: [unit] max_requests_per_second: 0 is out of range "
                "1..1000000",
                "D/policies/unit.toml:5:18: [unit] requests_burst: 1000001 is out of range "
                "1..1000000"}));
}

TEST_F(LoaderTest, ABestEffortLandlockNeedsAJustification) {
  const std::string head = "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n[sandbox]\n";
  auto errors = errorsOf(loadText(head + "landlock = \"best-effort\"\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("D/policies/unit.toml:5:12: [sandbox] landlock = \"best-effort\""),
            std::string::npos) << errors[0];
  auto justified = loadText(head + "landlock = \"best-effort\"\n"
                                   "justification = \"runs on hosts without Landlock; SEC-40\"\n");
  ASSERT_TRUE(justified.ok()) << ::testing::PrintToString(errorsOf(justified));
  EXPECT_EQ(justified.units[0].landlock, LayerStrictness::BEST_EFFORT);
  EXPECT_EQ(errorsOf(loadText(head + "landlock = \"optional\"\n")),
            (std::vector<std::string>{"D/policies/unit.toml:5:12: [sandbox] landlock "
                                      "\"optional\": expected \"required\" or \"best-effort\""}));
}

TEST_F(LoaderTest, SandboxSyscallsNameGroupsOrSyscallsNoGroupListsEachErrorAtItsEntry) {
  const std::string head = "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n[sandbox]\n";
  auto ok = loadText(head + "syscalls = [\"fs-metadata\", \"sync\"]\n");
  ASSERT_TRUE(ok.ok()) << ::testing::PrintToString(errorsOf(ok));
  EXPECT_EQ(ok.units[0].syscalls, (std::vector<std::string>{"fs-metadata", "sync"}));
  EXPECT_EQ(errorsOf(loadText(head + "syscalls = [\"ptrace\", \"clone\", \"nope\", \"sync\", "
                                     "\"sync\"]\n")),
            (std::vector<std::string>{
                "D/policies/unit.toml:5:13: [sandbox] syscalls \"ptrace\": ptrace is never "
                "granted: inspects and controls other processes",
                "D/policies/unit.toml:5:23: [sandbox] syscalls \"clone\": clone is in group "
                "threads: name the group instead (threads of the one process: clone only with "
                "CLONE_THREAD, clone3 answered ENOSYS so glibc falls back to clone)",
                "D/policies/unit.toml:5:32: [sandbox] syscalls \"nope\": no syscall group and no "
                "x86-64 syscall is named \"nope\" (`airlock doctor` lists the groups)",
                "D/policies/unit.toml:5:48: [sandbox] syscalls \"sync\" is listed twice"}));
  auto redundant = loadText(head + "syscalls = [\"basic-io\"]\n");
  ASSERT_TRUE(redundant.ok());
  bool warned = false;
  for (auto& warning : redundant.warnings) {
    warned |= warning.describe().find("/policies/unit.toml:5:13: [sandbox] syscalls \"basic-io\": "
                                      "every worker has this group already") != std::string::npos;
  }
  EXPECT_TRUE(warned);
}

TEST_F(LoaderTest, OnRefusedSyscallIsKillOrErrno) {
  const std::string head = "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n[sandbox]\n";
  EXPECT_EQ(loadText(head).units[0].onRefusedSyscall, SyscallRefusal::KILL);
  auto errno_ = loadText(head + "on_refused_syscall = \"errno\"\n");
  ASSERT_TRUE(errno_.ok());
  EXPECT_EQ(errno_.units[0].onRefusedSyscall, SyscallRefusal::ERRNO);
  EXPECT_EQ(errorsOf(loadText(head + "on_refused_syscall = \"ignore\"\n")),
            (std::vector<std::string>{"D/policies/unit.toml:5:22: [sandbox] on_refused_syscall "
                                      "\"ignore\": expected \"kill\" or \"errno\""}));
}

TEST_F(LoaderTest, BrokerSyscallsIsABooleanInTheRevision) {
  const std::string head = "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n[sandbox]\n";
  auto plain = loadText(head);
  EXPECT_FALSE(plain.units[0].brokerSyscalls);
  auto brokered = loadText(head + "broker_syscalls = true\n");
  ASSERT_TRUE(brokered.ok());
  EXPECT_TRUE(brokered.units[0].brokerSyscalls);
  EXPECT_NE(canonicalForm(brokered.units[0]), canonicalForm(plain.units[0]));
  EXPECT_EQ(errorsOf(loadText(head + "broker_syscalls = \"yes\"\n")),
            (std::vector<std::string>{"D/policies/unit.toml:5:19: [sandbox]: broker_syscalls must "
                                      "be true or false, got string"}));
}

TEST_F(LoaderTest, AUnitRunsAWorkerOrAnAbsoluteProgramNeverBoth) {
  const std::string unit = "[unit]\nname = \"a\"\n";
  auto program = loadText(unit + "program = \"/bin/true\"\n");
  ASSERT_TRUE(program.ok());
  EXPECT_EQ(program.units[0].programPath, "/bin/true");
  EXPECT_TRUE(program.units[0].brokerSyscalls);  // a program is always brokered
  EXPECT_EQ(errorsOf(loadText(unit + "program = \"true\"\n")),
            (std::vector<std::string>{"D/policies/unit.toml:3:11: [unit] program \"true\": must "
                                      "be an absolute path (a program is not looked up in the "
                                      "workers directory)"}));
  EXPECT_EQ(errorsOf(loadText(unit + "worker = \"thumbnailer-worker\"\nprogram = \"/bin/true\"\n")),
            (std::vector<std::string>{"D/policies/unit.toml:4:11: [unit] has more than one of "
                                      "worker, python_worker and program: a unit runs exactly "
                                      "one"}));
  EXPECT_EQ(errorsOf(loadText(unit)),
            (std::vector<std::string>{"D/policies/unit.toml:1:1: [unit]: missing required key "
                                      "\"worker\" (or \"python_worker\" for a Python script, "
                                      "\"program\" for a program run once per call)"}));
  EXPECT_EQ(errorsOf(loadText(unit + "program = \"/bin/true\"\n[sandbox]\nbroker_syscalls = false\n")),
            (std::vector<std::string>{"D/policies/unit.toml:5:19: [sandbox] broker_syscalls = "
                                      "false: a [unit] program is always brokered (it was not "
                                      "written against the SDK)"}));
}

TEST_F(LoaderTest, APythonWorkerIsAScriptFoundAsAWorkerIsAndRunByPython3) {
  const std::string unit = "[unit]\nname = \"a\"\n";
  dir_.writeWorker("workers/parse.py", 0644);  // read, not executed: no execute bit needed
  auto relative = loadText(unit + "python_worker = \"parse.py\"\n");
  ASSERT_TRUE(relative.ok()) << errorsOf(relative).front();
  EXPECT_EQ(relative.units[0].pythonScript, dir_.path() + "/workers/parse.py");
  EXPECT_EQ(relative.units[0].workerPath, "/usr/bin/python3");
  EXPECT_EQ(relative.units[0].workerName, "parse.py");
  EXPECT_EQ(errorsOf(loadText(unit + "python_worker = \"absent.py\"\n")),
            (std::vector<std::string>{"D/policies/unit.toml:3:17: [unit] python_worker "
                                      "\"absent.py\": no regular file at D/workers/absent.py"}));
  EXPECT_EQ(errorsOf(loadText(unit + "python_worker = \"../parse.py\"\n")),
            (std::vector<std::string>{"D/policies/unit.toml:3:17: [unit] python_worker "
                                      "\"../parse.py\": must be an absolute path or a file name "
                                      "in the workers directory"}));
  EXPECT_EQ(errorsOf(loadText(unit + "worker = \"thumbnailer-worker\"\npython_worker = "
                                     "\"parse.py\"\n")),
            (std::vector<std::string>{"D/policies/unit.toml:4:17: [unit] has more than one of "
                                      "worker, python_worker and program: a unit runs exactly "
                                      "one"}));
}

TEST_F(LoaderTest, OnlyAirlockRunLoadsAUnitWithoutAWorker) {
  const std::string unit = "[unit]\nname = \"a\"\n";
  EXPECT_FALSE(loadText(unit).ok());
  options_.workerCheck = LoadOptions::WorkerCheck::COMMAND_LINE_PROGRAM;
  EXPECT_TRUE(loadText(unit).ok());
}

TEST_F(LoaderTest, WriteAccessUnderASystemDirectoryNeedsAJustificationButReadAndDataDoNot) {
  const std::string head = "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n";
  auto fsRule = [](const std::string& path, const std::string& modes,
                   const std::string& effect = "allow") {
    return "[[rule]]\nid = \"r\"\n" + effect + " = \"fs.open\"\npath = \"" + path +
           "\"\nmode = [" + modes + "]\n";
  };
  auto errors = errorsOf(loadText(head + fsRule("/etc/app/*.conf", "\"write\"")));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("grants write access under /etc, a system directory"),
            std::string::npos) << errors[0];
  errors = errorsOf(loadText(head + fsRule("/*", "\"create\"")));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("grants write access at the file system root"), std::string::npos)
      << errors[0];
  // Not dangerous: reading a system file, writing data, denying.
  EXPECT_TRUE(loadText(head + fsRule("/etc/app/*.conf", "\"read\"")).ok());
  EXPECT_TRUE(loadText(head + fsRule("/srv/out/**", "\"write\", \"create\"")).ok());
  EXPECT_TRUE(loadText(head + fsRule("/etcetera/**", "\"write\"")).ok());
  EXPECT_TRUE(loadText(head + fsRule("/usr/**", "\"write\"", "deny")).ok());
}

TEST_F(LoaderTest, TheWorkerMustExistAndBeExecutable) {
  dir_.writeWorker("workers/not-executable", 0644);
  auto load = [this](const std::string& worker) {
    return errorsOf(loadText("[unit]\nname = \"a\"\nworker = \"" + worker + "\"\n"));
  };
  EXPECT_EQ(load("missing"),
            (std::vector<std::string>{"D/policies/unit.toml:3:10: [unit] worker \"missing\": not "
                                      "found at D/workers/missing (No such file or directory)"}));
  EXPECT_EQ(
      load("not-executable"),
      (std::vector<std::string>{"D/policies/unit.toml:3:10: [unit] worker \"not-executable\": "
                                "D/workers/not-executable is not an executable regular file"}));
  EXPECT_EQ(load("../escape"), (std::vector<std::string>{
                                   "D/policies/unit.toml:3:10: [unit] worker \"../escape\": must "
                                   "be an absolute path or a file name in the workers directory"}));
  EXPECT_TRUE(load(dir_.path() + "/workers/thumbnailer-worker").empty());
}

TEST_F(LoaderTest, SkippingTheWorkerCheckAcceptsAMissingWorker) {
  options_.workersDir.clear();
  options_.workerCheck = LoadOptions::WorkerCheck::SKIP;
  LoadResult r = loadText("[unit]\nname = \"a\"\nworker = \"not-here\"\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.units[0].workerPath, "not-here");

  options_.workerCheck = LoadOptions::WorkerCheck::REQUIRE_EXECUTABLE;
  EXPECT_EQ(
      errorsOf(loadText("[unit]\nname = \"a\"\nworker = \"not-here\"\n")),
      (std::vector<std::string>{"D/policies/unit.toml:3:10: [unit] worker \"not-here\": a "
                                "relative worker needs a workers directory (--workers DIR)"}));
}

TEST_F(LoaderTest, NumericLimitsAreEnforced) {
  LoadResult r = loadText(
      "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\ninstances = 17\n"
      "call_timeout_ms = 600001\nmax_payload_bytes = 67108865\n");
  EXPECT_EQ(
      errorsOf(r),
      (std::vector<std::string>{
          "D/policies/unit.toml:4:13: [unit] instances: 17 is out of range 1..16",
          "D/policies/unit.toml:5:19: [unit] call_timeout_ms: 600001 is out of range 1..600000",
          "D/policies/unit.toml:6:21: [unit] max_payload_bytes: 67108865 is out of range "
          "1..67108864",
      }));
}

TEST_F(LoaderTest, AnUnreadableFileIsAnError) {
  LoadResult r = loadPolicyFile(dir_.path() + "/nope.toml", options_);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].describe(),
            dir_.path() + "/nope.toml: cannot read policy file: No such file or directory");
}

TEST_F(LoaderTest, TextInMemoryLoadsAsTheSameFileWouldUnderTheNameGiven) {
  LoadResult fromFile = loadText(VALID);
  LoadResult fromText = loadPolicyText(VALID, "named.toml", options_);
  ASSERT_TRUE(fromText.ok()) << described(fromText.errors, dir_)[0];
  ASSERT_EQ(fromText.units.size(), 1u);
  EXPECT_EQ(fromText.units[0].name, fromFile.units[0].name);
  EXPECT_EQ(fromText.units[0].rules.size(), fromFile.units[0].rules.size());
  EXPECT_EQ(fromText.units[0].file, "named.toml");
  EXPECT_EQ(fromText.units[0].rules[0].where.describe(),
            "named.toml:" + std::to_string(fromFile.units[0].rules[0].where.line) + ":" +
                std::to_string(fromFile.units[0].rules[0].where.column));

  LoadResult broken = loadPolicyText("[unit\n", "broken.toml", options_);
  ASSERT_EQ(broken.errors.size(), 1u);
  EXPECT_EQ(broken.errors[0].where.file, "broken.toml");
  EXPECT_NE(broken.errors[0].message.find("TOML syntax error"), std::string::npos);

  LoadResult huge = loadPolicyText(std::string(MAX_POLICY_FILE_BYTES + 1, '#'), "huge.toml",
                                   options_);
  ASSERT_EQ(huge.errors.size(), 1u);
  EXPECT_NE(huge.errors[0].message.find("larger than"), std::string::npos);
}

TEST_F(LoaderTest, ADirectoryLoadsEveryTomlFileInNameOrder) {
  dir_.write("policies/b.toml", "[unit]\nname = \"b\"\nworker = \"thumbnailer-worker\"\n");
  dir_.write("policies/a.toml", "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n");
  dir_.write("policies/notes.txt", "not a policy");
  dir_.write("policies/.editor-swap.toml", "garbage [[[");
  LoadResult r = loadPolicyDir(dir_.path() + "/policies", options_);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  ASSERT_EQ(r.units.size(), 2u);
  EXPECT_EQ(r.units[0].name, "a");
  EXPECT_EQ(r.units[1].name, "b");
}

TEST_F(LoaderTest, TheSameUnitInTwoFilesIsAnErrorNamingBoth) {
  dir_.write("policies/a.toml", "[unit]\nname = \"thumb\"\nworker = \"thumbnailer-worker\"\n");
  dir_.write("policies/b.toml",
             "# copy\n[unit]\nname = \"thumb\"\nworker = \"thumbnailer-worker\"\n");
  LoadResult r = loadPolicyDir(dir_.path() + "/policies", options_);
  EXPECT_EQ(errorsOf(r), (std::vector<std::string>{
                             "D/policies/b.toml:3:8: unit \"thumb\" is also defined at "
                             "D/policies/a.toml:2:8 (unit names must be unique across the policy "
                             "directory)"}));
  EXPECT_EQ(r.units.size(), 1u);
}

TEST_F(LoaderTest, AFileWithBrokerHoldsTheAdminsAndNoUnit) {
  dir_.write("policies/a.toml", "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n");
  dir_.write("policies/broker.toml", "# who may reload\n[broker]\nadmins = [\"ops\", \"oncall\"]\n");
  LoadResult r = loadPolicyDir(dir_.path() + "/policies", options_);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  ASSERT_EQ(r.units.size(), 1u);
  EXPECT_EQ(r.broker.admins, (std::vector<std::string>{"ops", "oncall"}));
  EXPECT_TRUE(r.broker.isAdmin("ops"));
  EXPECT_FALSE(r.broker.isAdmin("a"));
  EXPECT_EQ(r.broker.where.line, 2);
}

TEST_F(LoaderTest, BrokerSectionErrorsAreReportedAtFileLineAndColumn) {
  auto r = loadText("[broker]\nadmins = [\"ops\", \"Bad Name\", \"ops\"]\nreload = true\n",
                    "broker.toml");
  auto errors = errorsOf(r);
  ASSERT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
  EXPECT_NE(errors[0].find("D/policies/broker.toml:2:18: [broker] admins: \"Bad Name\""),
            std::string::npos) << errors[0];
  EXPECT_EQ(errors[1], "D/policies/broker.toml:2:30: [broker] admins: \"ops\" is listed twice");
  EXPECT_NE(errors[2].find("D/policies/broker.toml:3:1: [broker]: unknown key \"reload\""),
            std::string::npos) << errors[2];
  auto wrongType = errorsOf(loadText("[broker]\nadmins = [\"ops\", 3]\n", "typed.toml"));
  ASSERT_EQ(wrongType.size(), 1u);
  EXPECT_NE(wrongType[0].find("D/policies/typed.toml:2:18:"), std::string::npos) << wrongType[0];

  auto mixed = loadText("[broker]\nadmins = [\"ops\"]\n\n[unit]\nname = \"x\"\n", "mixed.toml");
  EXPECT_EQ(errorsOf(mixed), (std::vector<std::string>{
                                 "D/policies/mixed.toml:4:2: \"unit\" in a file with [broker]: "
                                 "that file holds only [broker] (each unit has a file of its "
                                 "own)"}));
  auto missing = loadText("[broker]\n", "empty.toml");
  ASSERT_EQ(errorsOf(missing).size(), 1u);
  EXPECT_NE(errorsOf(missing)[0].find("admins"), std::string::npos) << errorsOf(missing)[0];
}

TEST_F(LoaderTest, TwoFilesWithBrokerIsAnErrorNamingBoth) {
  dir_.write("policies/a.toml", "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n");
  dir_.write("policies/b1.toml", "[broker]\nadmins = [\"ops\"]\n");
  dir_.write("policies/b2.toml", "\n[broker]\nadmins = [\"ops\"]\n");
  LoadResult r = loadPolicyDir(dir_.path() + "/policies", options_);
  EXPECT_EQ(errorsOf(r), (std::vector<std::string>{
                             "D/policies/b2.toml:2:1: [broker] is also defined at "
                             "D/policies/b1.toml:1:1 (one file in the policy directory holds "
                             "it)"}));
}

TEST_F(LoaderTest, ErrorsFromSeveralFilesAreAllReported) {
  dir_.write("policies/a.toml", "[unit]\nname = \"a\"\n");
  dir_.write("policies/b.toml", "[unit\n");
  LoadResult r = loadPolicyDir(dir_.path() + "/policies", options_);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].where.file, dir_.path() + "/policies/a.toml");
  EXPECT_EQ(r.errors[1].where.file, dir_.path() + "/policies/b.toml");
  EXPECT_TRUE(r.units.empty());
}

TEST_F(LoaderTest, AMissingOrEmptyDirectoryIsAnError) {
  LoadResult missing = loadPolicyDir(dir_.path() + "/absent", options_);
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].describe(),
            dir_.path() + "/absent: cannot read policy directory: No such file or directory");

  dir_.write("empty/readme.txt", "no policies");
  LoadResult empty = loadPolicyDir(dir_.path() + "/empty", options_);
  ASSERT_EQ(empty.errors.size(), 1u);
  EXPECT_EQ(empty.errors[0].describe(),
            dir_.path() + "/empty: no *.toml policy files in the policy directory");
}

TEST_F(LoaderTest, ASecretsRuleLoadsItsExactNames) {
  LoadResult r = loadText(
      "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n\n[[rule]]\nid = \"s\"\n"
      "allow = \"secrets.get\"\nname = [\"db-password\", \"api.token\"]\n");
  ASSERT_TRUE(r.ok()) << errorsOf(r)[0];
  ASSERT_EQ(r.units[0].rules.size(), 1u);
  EXPECT_EQ(r.units[0].rules[0].operation, Operation::SECRETS_GET);
  EXPECT_EQ(r.units[0].rules[0].secrets().secretNames,
            (std::vector<std::string>{"db-password", "api.token"}));
}

TEST_F(LoaderTest, SecretsRuleErrorsAreReportedAtFileLineAndColumn) {
  LoadResult r = loadText(
      "[unit]\nname = \"a\"\nworker = \"thumbnailer-worker\"\n\n[[rule]]\nid = \"s\"\n"
      "allow = \"secrets.get\"\nname = [\"ok\", \"ok\", \"../x\", \"a/b\"]\n"
      "path = \"/srv/**\"\n\n[[rule]]\nid = \"t\"\nallow = \"secrets.get\"\n");
  EXPECT_EQ(errorsOf(r),
            (std::vector<std::string>{
                "D/policies/unit.toml:8:15: rule \"s\": name \"ok\" is listed twice",
                "D/policies/unit.toml:8:21: rule \"s\": name \"../x\": secret name must not "
                "start with '.' (no \".\", \"..\" or hidden files)",
                "D/policies/unit.toml:8:29: rule \"s\": name \"a/b\": secret name may contain "
                "only letters, digits, '_', '.' and '-' (no '/')",
                "D/policies/unit.toml:9:1: rule \"s\": key \"path\" applies only to fs.*, "
                "grant rules, not secrets.get",
                "D/policies/unit.toml:11:1: rule \"t\": missing required key \"name\"",
            }));
}

}  // namespace
}  // namespace airlock::policy

namespace airlock::policy {
namespace {

std::vector<std::string> lintOf(const std::string& rules) {
  char pattern[] = "/tmp/airlock-lint-XXXXXX";
  EXPECT_NE(mkdtemp(pattern), nullptr);
  std::string path = std::string(pattern) + "/u.toml";
  std::ofstream(path) << "[unit]\nname = \"u\"\nworker = \"/bin/true\"\n\n" << rules;
  LoadOptions options;
  auto result = loadPolicyFile(path, options);
  EXPECT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].describe());
  std::vector<std::string> out;
  for (auto& w : result.warnings) out.push_back(w.describe());
  unlink(path.c_str());
  rmdir(pattern);
  return out;
}

const char CALLABLE[] =
    "[[rule]]\nid = \"c\"\nallow = \"call\"\ncaller = [\"web\"]\nmethod = [\"*\"]\n\n";

TEST(PolicyLint, AUnitNoHostMayCallIsReported) {
  auto warnings = lintOf("[[rule]]\nid = \"r\"\nallow = \"fs.open\"\npath = \"/srv/**\"\n"
                         "mode = [\"read\"]\n");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("u.toml:2"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("no host can call it"), std::string::npos) << warnings[0];
}

TEST(PolicyLint, AnAllowADenyOnTheSamePatternCoversNeverDecides) {
  auto warnings = lintOf(std::string(CALLABLE) +
                         "[[rule]]\nid = \"a\"\nallow = \"fs.open\"\npath = \"/srv/**\"\n"
                         "mode = [\"read\"]\n\n[[rule]]\nid = \"d\"\ndeny = \"fs.open\"\n"
                         "path = \"/srv/**\"\nmode = [\"read\", \"write\"]\n");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("rule \"a\" can never allow"), std::string::npos) << warnings[0];
}

TEST(PolicyLint, ADenyCoveringOnlySomeModesLeavesTheAllowUseful) {
  auto warnings = lintOf(std::string(CALLABLE) +
                         "[[rule]]\nid = \"a\"\nallow = \"fs.open\"\npath = \"/srv/**\"\n"
                         "mode = [\"read\", \"write\"]\n\n[[rule]]\nid = \"d\"\ndeny = \"fs.open\"\n"
                         "path = \"/srv/**\"\nmode = [\"write\"]\n");
  EXPECT_TRUE(warnings.empty()) << warnings[0];
}

TEST(PolicyLint, ARepeatedRuleIsReportedAtTheRepeat) {
  auto warnings = lintOf(std::string(CALLABLE) +
                         "[[rule]]\nid = \"a\"\nallow = \"fs.open\"\npath = \"/srv/**\"\n"
                         "mode = [\"read\"]\n\n[[rule]]\nid = \"b\"\nallow = \"fs.open\"\n"
                         "path = \"/srv/**\"\nmode = [\"read\"]\n");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("rule \"b\" repeats"), std::string::npos) << warnings[0];
}

}  // namespace
}  // namespace airlock::policy

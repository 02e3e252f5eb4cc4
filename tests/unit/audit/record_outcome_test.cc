// How a call ended and why a worker stopped, read from records as airlockd writes them: apart
// from the decision, and a crash apart from the exits airlockd caused.

#include "audit/record_outcome.h"

#include <gtest/gtest.h>

#include "audit/record_filter.h"
#include "tests/unit/audit/record_lines.h"

namespace airlock::audit {
namespace {

using namespace testing;

LoggedRecord callRecord(const std::string& decision, const std::string& result,
                        const std::string& event = "call") {
  auto json = decisionJson(7, "2026-11-26T18:00:00.000000Z", event, "thumbnailer", decision,
                           "web-calls", {{"method", "resize"}, {"payload_bytes", 3}});
  json["result"] = result;
  return parsed(json);
}

LoggedRecord exitRecord(const std::string& result, const std::string& reason,
                        nlohmann::ordered_json args = nlohmann::ordered_json::object()) {
  nlohmann::ordered_json json = {{"seq", 9}, {"time", "2026-11-26T18:00:01.000000Z"},
                                 {"event", "worker.exit"}, {"prev", std::string(64, '0')},
                                 {"unit", "thumbnailer"}, {"worker_pid", 812}};
  if (!args.empty()) json["args"] = args;
  if (!reason.empty()) json["reason"] = reason;
  json["result"] = result;
  return parsed(json);
}

std::string outcome(const LoggedRecord& record) {
  KJ_IF_MAYBE(found, callOutcome(record)) { return std::string(*found); }
  return "(none)";
}

std::string cause(const LoggedRecord& record) {
  KJ_IF_MAYBE(found, exitCause(record)) { return std::string(*found); }
  return "(none)";
}

TEST(RecordOutcome, AnAllowedCallThatCrashedIsACrashNotASuccess) {
  EXPECT_EQ(outcome(callRecord("allow", "ok")), "ok");
  EXPECT_EQ(outcome(callRecord("allow", "unit crashed: worker pid 812 killed by SIGSEGV")),
            "crashed");
  EXPECT_EQ(outcome(callRecord("allow", "timed out: no answer within call_timeout_ms 400")),
            "timed-out");
  EXPECT_EQ(outcome(callRecord("allow", "worker failed: std::bad_alloc")), "out-of-memory");
  EXPECT_EQ(outcome(callRecord("allow", "unit crashed: worker pid 9 killed by SIGKILL (out of "
                                        "memory: memory.max 256 MiB)")),
            "out-of-memory");
  EXPECT_EQ(outcome(callRecord("allow", "worker failed: no thumbnail")), "failed");
  EXPECT_EQ(outcome(callRecord("deny", "denied")), "denied");
  EXPECT_EQ(outcome(callRecord("deny", "busy")), "busy");
  EXPECT_EQ(outcome(callRecord("deny", "unit unavailable")), "unavailable");
  EXPECT_EQ(outcome(callRecord("allow", "ok", "invoke")), "ok");
  EXPECT_EQ(outcome(callRecord("allow", "", "call.admitted")), "(none)");
  EXPECT_EQ(outcome(fsOpen(1, "2026-11-26T18:00:00.000000Z", "/a", "deny")), "(none)");
}

TEST(RecordOutcome, AWorkerExitSaysWhetherAirlockdCausedIt) {
  EXPECT_EQ(cause(exitRecord("killed by SIGKILL", "airlockd is stopping", {{"cause", "shutdown"}})),
            "shutdown");
  // A log written before args.cause: the reason says as much.
  EXPECT_EQ(cause(exitRecord("killed by SIGKILL", "airlockd is stopping")), "shutdown");
  EXPECT_EQ(cause(exitRecord("killed by SIGKILL", "unit removed by a policy reload")), "reload");
  EXPECT_EQ(cause(exitRecord("killed by SIGKILL",
                             "killed by airlockd: timed out: no answer within call_timeout_ms 4")),
            "deadline");
  EXPECT_EQ(cause(exitRecord("killed by SIGKILL", "killed by airlockd: stopped answering: x")),
            "killed");
  EXPECT_EQ(cause(exitRecord("killed by SIGSEGV", "")), "crashed");
  EXPECT_EQ(cause(exitRecord("killed by SIGKILL", "")), "crashed") << "a SIGKILL not airlockd's";
  EXPECT_EQ(cause(exitRecord("exited with status 0", "")), "exited");
  EXPECT_EQ(cause(exitRecord("exited with status 3", "")), "failed");
  // A cause that is not one of airlockd's is not believed; the result decides.
  EXPECT_EQ(cause(exitRecord("killed by SIGSEGV", "", {{"cause", "<b>"}})), "crashed");
  EXPECT_TRUE(causedByAirlockd("deadline"));
  EXPECT_FALSE(causedByAirlockd("crashed"));
  EXPECT_EQ(cause(callRecord("allow", "ok")), "(none)");
}

TEST(RecordOutcome, TheFilterMatchesACallIdAndTheCallsAWorkerServedAtOnce) {
  auto json = decisionJson(3, "2026-11-26T18:00:00.000000Z", "fs.open", "thumbnailer", "allow",
                           "images-read", {{"path", "/srv/a"}, {"serving_call_ids", {"c-4", "c-5"}}});
  auto shared = parsed(json);
  json["call_id"] = "c-6";
  json["args"].erase("serving_call_ids");
  auto own = parsed(json);
  RecordFilter filter;
  filter.callIds = {"c-5"};
  EXPECT_TRUE(filter.matches(shared));
  EXPECT_FALSE(filter.matches(own));
  filter.callIds = {"c-6"};
  EXPECT_TRUE(filter.matches(own));
  EXPECT_FALSE(filter.matches(shared));

  RecordFilter crashed;
  crashed.results = {"crashed"};
  EXPECT_TRUE(crashed.matches(callRecord("allow", "unit crashed: worker pid 1 killed by SIGBUS")));
  EXPECT_FALSE(crashed.matches(callRecord("allow", "ok")));
  EXPECT_FALSE(crashed.matches(own)) << "only calls have an outcome";
}

}  // namespace
}  // namespace airlock::audit

// The calls a worker serves, as its own records name them: one call sets call_id, several at
// once are all listed, an ended call is forgotten unless airlockd has killed the worker.

#include "broker/caps/serving_calls.h"

#include <gtest/gtest.h>

namespace airlock::broker {
namespace {

audit::AuditRecord tagged(const ServingCalls& calls) {
  audit::AuditRecord record;
  record.event = "worker.exit";
  calls.tag(record);
  return record;
}

TEST(ServingCalls, OneCallIsNamedSeveralAreListedAndAnEndedOneIsForgotten) {
  auto calls = kj::refcounted<ServingCalls>();
  EXPECT_EQ(tagged(*calls).callId, "");
  {
    auto first = calls->begin("c-1", "client:web,uid:0");
    auto record = tagged(*calls);
    EXPECT_EQ(record.callId, "c-1");
    EXPECT_EQ(record.caller, "client:web,uid:0");
    EXPECT_FALSE(record.args.contains("serving_call_ids"));
    {
      auto second = calls->begin("c-2", "client:web,uid:0");
      auto both = tagged(*calls);
      EXPECT_EQ(both.callId, "") << "the worker's act cannot be told apart between them";
      EXPECT_EQ(both.args["serving_call_ids"], nlohmann::ordered_json({"c-1", "c-2"}));
    }
    EXPECT_EQ(tagged(*calls).callId, "c-1");
  }
  EXPECT_EQ(tagged(*calls).callId, "");

  audit::AuditRecord own;
  own.callId = "c-9";
  auto third = calls->begin("c-3", "");
  calls->tag(own);
  EXPECT_EQ(own.callId, "c-9") << "a record that names its call keeps it";
}

TEST(ServingCalls, AfterAirlockdKillsTheWorkerItsCallsStayOnIt) {
  auto calls = kj::refcounted<ServingCalls>();
  {
    auto serving = calls->begin("c-7", "client:web,uid:0");
    calls->freeze();  // the deadline's kill, before the call is answered
  }
  EXPECT_EQ(tagged(*calls).callId, "c-7") << "its exit, seen later, still names the call";
}

TEST(ServingCalls, ATokenMayOutliveTheWorker) {
  kj::Maybe<ServingCalls::Serving> serving;
  {
    auto calls = kj::refcounted<ServingCalls>();
    serving = calls->begin("c-1", "");
  }
  serving = nullptr;  // ends the call on the list it keeps alive
}

}  // namespace
}  // namespace airlock::broker

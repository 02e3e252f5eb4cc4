#pragma once
// How a call ended and why a worker stopped, read from the records, apart from the decision
// that let them go ahead: a call can be allowed and still crash, and an auditor counting
// crashes must not count the SIGKILL airlockd gives every worker when it stops.
//
// Pure functions of one record; callable from any thread.

#include <kj/common.h>

#include <array>
#include <string_view>

#include "audit/record_reader.h"

namespace airlock::audit {

// A call's outcome: of a `call` record (the callee's side) or an `invoke` record (the caller's).
//   ok             the worker answered
//   denied         a rule refused it (or the callee's rules, for an invoke)
//   crashed        the worker died while serving it ("unit crashed: ...")
//   timed-out      no answer by its deadline; airlockd killed the worker
//   busy           refused by a flow limit (max_calls_in_flight, max_calls_per_second)
//   out-of-memory  the worker ran out of memory: its result names it (out of memory, ENOMEM,
//                  std::bad_alloc, an OOM kill)
//   unavailable    no worker could take it: parked unit, no such unit, airlockd stopping
//   failed         anything else the worker or the request got wrong: worker failed, no such
//                  method, bad request, internal
inline constexpr std::array<std::string_view, 8> CALL_OUTCOMES = {
    "ok", "denied", "crashed", "timed-out", "busy", "out-of-memory", "unavailable", "failed"};

// Null for a record that is not a call's answer (every other event, `call.admitted` included).
kj::Maybe<std::string_view> callOutcome(const LoggedRecord& record);

// Why a worker stopped, from its `worker.exit` record (`args.cause` when airlockd wrote one):
//   exited, failed, crashed    by itself: status 0, another status, a signal airlockd did not
//                              send (a seccomp kill included)
//   shutdown, reload, parked   airlockd stopped it: stopping, a policy reload retired its pool,
//                              its unit was parked
//   deadline                   airlockd killed it at a call's deadline or hello's
//   killed                     airlockd killed it for another reason (it stopped answering)
inline constexpr std::array<std::string_view, 8> EXIT_CAUSES = {
    "exited", "failed", "crashed", "shutdown", "reload", "parked", "deadline", "killed"};

// Null for a record that is not a worker.exit.
kj::Maybe<std::string_view> exitCause(const LoggedRecord& record);

// True for causes airlockd brought about (shutdown, reload, parked, deadline, killed).
bool causedByAirlockd(std::string_view cause);

}  // namespace airlock::audit

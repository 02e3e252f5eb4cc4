@0xe94198ddf917a267;
# The interface host applications use to reach units through airlockd.
#
# A host connects to airlockd's Unix socket; the bootstrap capability is a Gateway. Nothing but
# `authenticate` is reachable before it succeeds.

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("airlock::rpc");

interface Gateway {
  authenticate @0 () -> (session :Session);
  # v1 identifies the caller by the peer credentials (SO_PEERCRED uid) of its connection; the
  # broker refuses the session unless some unit's policy names that uid as a caller. The key
  # challenge-response extends this method without changing what follows it.
}

interface Session {
  unit @0 (name :Text) -> (unit :Unit);
  # Always returns a capability (so calls can be pipelined); calls on an unknown unit answer
  # `noSuchUnit`.
}

interface Unit {
  call @0 (method :Text, payload :Data) -> (result :CallResult);
  # Checked against the unit's `call` rules for this caller, audited, then dispatched to one of
  # the unit's sandboxed workers.
}

struct CallResult {
  union {
    ok @0 :Data;
    error @1 :CallError;
  }
}

struct CallError {
  kind @0 :ErrorKind;
  message @1 :Text;
  ruleId @2 :Text;  # the rule that decided a denial; empty otherwise
}

enum ErrorKind {
  denied @0;           # the policy refused the call
  unitCrashed @1;      # the worker died while handling the call
  timedOut @2;         # the worker did not answer within the unit's call timeout
  badRequest @3;       # malformed arguments (e.g. oversized payload)
  unitUnavailable @4;  # no worker could be started for the unit
  noSuchMethod @5;     # the worker exports no such method
  workerFailed @6;     # the worker's method reported an error
  noSuchUnit @7;       # no policy defines this unit
  internal @8;         # the broker could not complete the call (e.g. audit log unwritable)
}

@0xe94198ddf917a267;
# The interface host applications use to reach units through airlockd.
#
# A host connects to airlockd's Unix socket; the bootstrap capability is a Gateway. It offers only
# the handshake (docs: SECURITY.md "Host authentication"; the signed bytes: capnp/host_auth.h):
#
#   client                                             airlockd (knows the peer's uid, pid)
#   hello(clientName, clientNonce)          ───▶       looks up clientName's public key
#                                           ◀───       (challenge, brokerNonce, peerUid, peerPid,
#                                                       brokerSignature)
#   verifies brokerSignature with the pinned broker.pub, and that peerUid/peerPid are its own
#   challenge.authenticate(clientSignature) ───▶       verifies it with clientName's public key
#                                           ◀───       (session)
#
# Both signatures cover the same transcript (both identities, both nonces, the peer credentials)
# under different domain-separation prefixes. Nothing else is reachable before `authenticate`
# succeeds: the Session capability exists only in its answer.

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("airlock::rpc");

interface Gateway {
  hello @0 (clientName :Text, clientNonce :Data)
      -> (challenge :Challenge, brokerNonce :Data, peerUid :UInt32, peerPid :UInt32,
          brokerSignature :Data);
  # clientName: a name from airlockd's --client-keys directory (at most 64 bytes); clientNonce:
  # 32 fresh random bytes. One hello per connection. Fails ("authentication refused") for an
  # unknown name, a malformed or oversized argument, a client nonce seen before, or too many
  # attempts in flight from this uid; after repeated failures from a uid the answer is delayed.
}

interface Challenge {
  authenticate @0 (clientSignature :Data) -> (session :Session);
  # clientSignature: 64-byte Ed25519 signature, with the client's key, of the client transcript.
  # One use: a second answer is refused as a replay. Succeeds only if the signature verifies
  # and some unit's call rules name this client (and, where a rule says so, its uid) or the
  # policy's [broker] admins does.
}

interface Session {
  unit @0 (name :Text) -> (unit :Unit);
  # Always returns a capability (so calls can be pipelined); calls on an unknown unit answer
  # `noSuchUnit`.
  admin @1 () -> (admin :Admin);
  # Only for a client the policy's [broker] admins lists; anyone else gets an exception. Audited
  # either way (event admin).
}

interface Admin {
  reload @0 () -> (applied :Bool, revision :Text, summary :Text, errors :List(Text));
  # Re-reads the policy directory and the client keys, as SIGHUP does. `revision` is the one in
  # force afterwards; `errors` says why a reload was refused (the old policy then stays).
  status @1 () -> (json :Text);
  # What airlockd is running: revision, units, instances, pids, restarts, calls in flight,
  # limits. One JSON object, described in docs/cli.md under `airlock status`.
  drain @2 () -> (callsInFlight :UInt64);
  # Starts what SIGTERM does: stop accepting, refuse new calls, let the calls in flight finish,
  # then stop. Answers at once, with how many calls are still in flight.
}

interface Unit {
  call @0 (method :Text, payload :Data, timeoutMs :UInt32, grants :List(Grant))
      -> (result :CallResult);
  # Checked against the unit's `call` rules for this caller, audited, then dispatched to one of
  # the unit's sandboxed workers. `timeoutMs` 0 leaves the deadline at the unit's
  # call_timeout_ms; otherwise the call must be answered within `timeoutMs` of airlockd receiving
  # it, or sooner if call_timeout_ms says so: a caller may shorten its deadline, never lengthen it.
  # `grants`: what this call alone may reach (at most 32; docs/policy.md "Call-scoped grants").
  # Each is decided by the unit's `grant` rules for this caller before any worker sees the call;
  # one refused refuses the call (denied, naming the grant and its rule). The call's record lists
  # them; the worker reaches a granted path only through the unit's `granted_only` fs.open rules,
  # and only until the call is answered.

  typed @1 (grants :List(Grant)) -> (cap :Capability);
  # The unit's typed interface ([unit] interface in its policy), e.g. an ImageDecoder: cast `cap`
  # to it. Every call on it is checked against the same `call` rules by method name, audited,
  # and dispatched to one of the unit's workers with that call's capabilities, as `call` is.
  # Failures are exceptions whose text starts with the error kind ("denied: ...", "timed out:
  # ..."). Capabilities cannot cross it in either direction: params or results holding one are
  # refused. On a unit without a typed interface every call fails ("bad request: ...").
  # `grants` go with every call made on `cap`, decided per call as `call`'s are.

  run @2 (args :List(Text), stdin :Data, timeoutMs :UInt32) -> (result :RunResult);
  # For a unit whose policy names a `program` instead of a worker: checked against the unit's
  # `call` rules as method "run", audited, then the program runs once, in a fresh sandbox, with
  # `args` after its name and `stdin` as its standard input, its own file syscalls decided by the
  # unit's fs.* rules (transparent brokering). Its stdout and stderr come back, each cut at the
  # unit's max_payload_bytes. `timeoutMs` as for `call`; past the deadline the program is killed
  # and the answer is `timedOut`. On a worker unit it fails as `badRequest`.
}

struct Grant {
  # A path a host hands one call: the worker may open it with `mode`'s modes while the call lasts.
  path @0 :Text;   # absolute, as the worker will ask for it
  mode @1 :GrantMode;
  file @2 :GrantedFile;
  # If set, a descriptor grant: the host's own open file, served to the worker that opens `path`
  # (as a fresh description with the modes it asks), whatever is or is not at `path` itself. The
  # grant rule that admits it must list the file's kind in `descriptors`; only regular files and
  # directories, and `mode` within what the descriptor permits (docs/policy.md). airlockd takes
  # descriptors on a connection only while its policy has such a rule: otherwise the kernel
  # drops them and the grant is refused as having none.
}

interface GrantedFile {
  # Carries a descriptor: the host's side implements getFd(); it has no methods.
}

struct GrantMode {
  read @0 :Bool;
  write @1 :Bool;
  create @2 :Bool;
  truncate @3 :Bool;
  append @4 :Bool;
}

struct RunResult {
  union {
    exited @0 :ProgramExit;
    error @1 :CallError;
  }
}

struct ProgramExit {
  status @0 :Int32;     # the exit status, when signal is 0
  signal @1 :Int32;     # the signal that ended it, or 0
  stdout @2 :Data;
  stderr @3 :Data;
  outputCut @4 :Bool;   # stdout or stderr was longer than max_payload_bytes and was cut
  refusedSyscall @5 :Text;  # the syscall the sandbox stopped it for, if any
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
  busy @9;             # the unit is at max_calls_in_flight or over max_calls_per_second: try later
}

@0xc5029b945c394afb;
# The interfaces between airlockd and a sandboxed worker, over the socketpair the broker created.
#
# The worker's bootstrap is a `Worker`, called by the broker. The broker exports no bootstrap: a
# worker reaches broker capabilities only through the `Capabilities` handed to it with each call,
# and a capability its unit's policy does not grant is a null field, not merely a refusing object.

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("airlock::rpc");

interface Worker {
  hello @0 () -> (methods :List(Text));
  # Called once after spawn; answering it marks the worker ready.

  call @1 (method :Text, payload :Data, caps :Capabilities) -> (result :WorkerResult);
  # Dispatch of a host's call. `caps` is valid for the duration of this call only.
}

struct WorkerResult {
  union {
    ok @0 :Data;
    error @1 :Text;        # the method reported a failure
    noSuchMethod @2 :Void;
  }
}

struct Capabilities {
  fs @0 :Fs;            # null unless the policy has an fs.open allow rule
  secrets @1 :Secrets;  # null unless the policy has a secrets.get allow rule
  log @2 :Log;          # always granted: bounded per line and rate-limited per unit
}

interface Secrets {
  get @0 (name :Text) -> (result :SecretResult);
  # `name` is a secret's name in airlockd's --secrets store, [A-Za-z0-9_.-]{1,128}, not starting
  # with '.'. The value is never logged or audited (the record has the name and a keyed hash).
}

struct SecretResult {
  union {
    value @0 :Data;
    denied @1 :Text;   # the policy refused it: the deciding rule and why
    failed @2 :Text;   # allowed, but the store could not read it
  }
}

interface Log {
  log @0 (level :LogLevel, message :Text) -> ();
  # One line for the broker's log, tagged with the unit and worker pid. Lines longer than 4 KiB
  # are cut; control characters are escaped; lines past the unit's rate are dropped and counted.
}

enum LogLevel {
  debug @0;
  info @1;
  warn @2;
  error @3;
}

interface Fs {
  open @0 (path :Text, mode :OpenMode) -> (result :OpenResult);
  # `path` is an absolute host path. The broker opens it itself, beneath the granted root, and
  # passes the descriptor as the fd of `file` (read it with getFd()).
}

struct OpenMode {
  read @0 :Bool;
  write @1 :Bool;
  create @2 :Bool;
  truncate @3 :Bool;
  append @4 :Bool;
}

struct OpenResult {
  union {
    file @0 :File;
    denied @1 :Text;   # the policy refused the open: the deciding rule and why
    failed @2 :Text;   # allowed, but the open itself failed (errno name and message)
  }
}

interface File {}
# Carries one open file descriptor from the broker (Capability::Client::getFd()).

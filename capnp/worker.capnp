@0xc5029b945c394afb;
# The interfaces between airlockd and a sandboxed worker, over the socketpair the broker created.
#
# The worker's bootstrap is a `Worker`, called by the broker. The broker exports no bootstrap (a
# worker that asks gets a broken capability, and its first ask is audited as unknown.method): a
# worker reaches broker capabilities only through the `Capabilities` handed to it with each call,
# and a capability its unit's policy does not grant is a null field, not merely a refusing object.

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("airlock::rpc");

interface Worker {
  hello @0 () -> (methods :List(Text));
  # Called once after spawn; answering it marks the worker ready.

  call @1 (method :Text, payload :Data, caps :Capabilities) -> (result :WorkerResult);
  # Dispatch of a host's call. `caps` is valid for the duration of this call only.

  bind @2 (caps :Capabilities) -> (typed :Capability);
  # For a unit with a typed interface ([unit] interface in its policy): the worker's object for
  # that interface, bound to one call's `caps`. airlockd pipelines exactly one checked and
  # audited call on `typed` and then drops it. A worker without a typed interface throws.
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
  net @3 :Net;          # null unless the policy has a net.connect allow rule
  units @4 :Units;      # null unless the policy has an invoke allow rule
}

interface Secrets {
  get @0 (name :Text) -> (result :SecretResult);
  # `name` is a secret's name in airlockd's --secrets store, [A-Za-z0-9_.-]{1,128}, not starting
  # with '.'. The value is never logged or audited (the record has the name and a keyed hash).
}

struct SecretResult {
  union {
    value @0 :Data;    # not sent by airlockd any more (see `file`); read by the SDK if it comes
    denied @1 :Text;   # the policy refused it: the deciding rule and why
    failed @2 :Text;   # allowed, but the store could not read it
    file @3 :File;
    # The value: a sealed memfd (no write, grow, shrink or further seal) holding exactly its bytes
    # from offset 0. The value crosses in the kernel, so no Cap'n Proto message buffer of the
    # broker's (freed without being zeroed) ever holds it.
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
  # Every `path` is an absolute host path, checked against the unit's rules for that operation
  # and resolved by the broker itself beneath the deciding rule's root (openat2 RESOLVE_BENEATH,
  # no symlinks followed). Each request is one audit record.

  open @0 (path :Text, mode :OpenMode) -> (result :OpenResult);
  # The broker opens it and passes the descriptor as the fd of `file` (read it with getFd()).

  stat @1 (path :Text) -> (result :StatResult);          # rule operation fs.stat
  list @2 (path :Text) -> (result :ListResult);          # fs.list: a directory's entries
  mkdir @3 (path :Text) -> (result :FsResult);           # fs.mkdir: one directory, mode 0750
  unlink @4 (path :Text) -> (result :FsResult);          # fs.unlink: a file or an empty directory
  rename @5 (from :Text, to :Text) -> (result :FsResult);
  # fs.rename: both paths must be allowed, beneath the same root; never replaces a directory.
  createTemp @6 (directory :Text, prefix :Text) -> (result :TempResult);
  # A new file with a unique name in `directory`, created exclusively (O_EXCL) and opened
  # read-write: decided as fs.open of the new path with modes read,write,create.
  symlink @7 (target :Text, path :Text) -> (result :FsResult);
  # fs.symlink: a link at `path`; `target` must be relative and stay beneath the deciding rule's
  # root when resolved from the link's directory.
  mknod @8 (path :Text, kind :SpecialFile) -> (result :FsResult);
  # Always refused (and audited): the broker never creates device nodes, FIFOs or sockets. It
  # exists so that a worker asking for one leaves a record instead of nothing.
}

struct OpenMode {
  read @0 :Bool;
  write @1 :Bool;
  create @2 :Bool;
  truncate @3 :Bool;
  append @4 :Bool;
  exclusive @5 :Bool;  # with create: fail with EEXIST if the path exists (O_EXCL)
}

enum FileType {
  regular @0;
  directory @1;
  symlink @2;
  other @3;     # device, FIFO, socket
}

enum SpecialFile {
  characterDevice @0;
  blockDevice @1;
  fifo @2;
  socket @3;
}

struct FileInfo {
  type @0 :FileType;
  size @1 :UInt64;
  permissions @2 :UInt32;     # st_mode & 07777
  modifiedNs @3 :Int64;       # st_mtime in nanoseconds since the epoch
}

struct StatResult {
  union {
    info @0 :FileInfo;
    denied @1 :Text;
    failed @2 :Text;
  }
}

struct DirEntry {
  name @0 :Text;
  type @1 :FileType;
}

struct ListResult {
  union {
    entries @0 :List(DirEntry);  # sorted by name, without "." and ".."
    denied @1 :Text;
    failed @2 :Text;             # includes a directory with more entries than the broker lists
  }
}

struct FsResult {
  union {
    done @0 :Void;
    denied @1 :Text;
    failed @2 :Text;
  }
}

struct TempResult {
  union {
    created @0 :TempFile;
    denied @1 :Text;
    failed @2 :Text;
  }
}

struct TempFile {
  path @0 :Text;
  file @1 :File;
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

interface Net {
  # The sandbox has no network of its own: the broker connects and passes the connected socket.
  connect @0 (host :Text, port :UInt16) -> (result :ConnectResult);
  # TCP. `host` is a name or an IPv4/IPv6 literal; the broker resolves it and connects only to
  # an address the unit's net.connect rules allow for that port.
  connectUnix @1 (path :Text) -> (result :ConnectResult);
  # A Unix stream socket at an absolute path a net.connect rule's `unix_path` allows.
}

struct ConnectResult {
  union {
    socket @0 :File;   # the connected socket is the fd of this capability
    denied @1 :Text;   # the policy refused it: the deciding rule and why
    failed @2 :Text;   # allowed, but resolving or connecting failed
  }
}

interface Units {
  invoke @0 (unit :Text, method :Text, payload :Data) -> (result :InvokeResult);
  # A call to another unit's method through the broker: allowed only if this unit's invoke rules
  # allow it and the callee's call rules list this unit as a caller. Both sides are audited with
  # one call id. Cycles are refused and the chain of nested invokes is bounded.
}

struct InvokeResult {
  union {
    ok @0 :Data;
    denied @1 :Text;   # either side's policy refused it: the deciding rule and why
    failed @2 :Text;   # the callee could not answer: unavailable, crashed, timed out, no method
    error @3 :Text;    # the callee's method reported an error
  }
}

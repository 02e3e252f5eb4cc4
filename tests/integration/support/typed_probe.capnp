@0x9d2075802a53750c;
# The typed interface of the test unit in typed_call_test.cc (worker: programs/typed_worker.cc).
# Each method exercises one thing the membrane in broker/host/typed_call.cc must get right.

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("airlock::testing::rpc");

interface TypedBase {
  ping @0 () -> (pong :Text);             # a superclass method: named from the base interface
}

interface TypedProbe extends(TypedBase) {
  echo @0 (text :Text) -> (text :Text);
  leak @1 () -> (probe :TypedProbe);      # answers with a capability of the worker's own
  take @2 (probe :TypedProbe) -> ();      # the host hands the worker a capability
  crash @3 () -> ();                      # the worker aborts mid-call
  fail @4 () -> ();                       # the method throws
  readFile @5 (path :Text) -> (bytes :Data);  # through this call's fs capability
  notGranted @6 () -> ();                 # no call rule names it
  statFlood @7 (count :UInt32, pathBytes :UInt32) -> (answered :UInt32);
  # `count` fs.stat requests of a `pathBytes`-long path sent at once, none awaited before the
  # next: pipelining past the channel's flow limit (flow_limits_test.cc)
  hold @8 (payload :Data) -> ();          # never answers: held until the call's deadline
  secretAnswer @9 (name :Text) -> (kind :Text, seals :Int32, bytes :Data);
  # secrets.get as the broker answers it, not as the SDK hides it: which member of the answer
  # came ("file", "value", ...), the seals on a file's memfd, and the bytes read from it
  holdFiles @10 (path :Text, count :UInt32) -> (opened :UInt32, refusal :Text);
  # `count` fs.open of `path` at once, every File kept past the call (a worker hoarding the
  # broker's descriptors); `refusal`: the first failed answer's text
  releaseFiles @11 () -> ();              # drops every File holdFiles kept
  keepFs @13 () -> ();                    # keeps this call's fs capability past the call
  useKeptFs @14 (path :Text) -> (answer :Text);
  # fs.stat of `path` through the capability keepFs kept (a worker retaining authority):
  # `answer` is the refusal's text, or "answered"
  readWithKeptFs @15 (path :Text) -> (answer :Text);
  # fs.open (read) of `path` through the capability keepFs kept: the refusal's text, or "opened"
  callUnknown @12 (capability :Text, path :Text) -> (answer :Text);
  # a method the broker does not offer, on one of this call's capabilities: "fs", "net",
  # "secrets", "log", "units" (ordinal 99 of its own interface), "fs-as-net" (the fs capability
  # called with Net's interface id), or "file" (the File of an fs.open of `path`, which has no
  # methods); `answer`: the exception's text, or "answered" if the broker answered it
}

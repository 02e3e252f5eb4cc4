"""A Python host on the airlock package (sdk/python/airlock), run by python_host_test.cc.

    python3 python_host.py SOCKET CLIENT_KEY BROKER_PUB TYPED_PROBE_ID TYPED_BASE_ID NAME FILE

NAME is the path a descriptor grant of FILE (opened here, read-only) goes under.

Calls the units of c_abi_test.cc's policies and prints one line per step, "STEP: RESULT"."""

import sys
import threading

import airlock


def attempt(step, action):
    try:
        answer = action()
        print(f"{step}: ok {answer.decode() if isinstance(answer, bytes) else answer}")
    except airlock.Error as error:
        print(f"{step}: {type(error).__name__} kind={error.kind} rule={error.rule}")
        print(f"{step}: {error}", file=sys.stderr)


def main(socket, key, broker_key, typed_probe_id, typed_base_id, name, file):
    typed_probe_id, typed_base_id = int(typed_probe_id, 0), int(typed_base_id, 0)
    try:
        airlock.connect(socket, key=key, broker_key="/nonexistent/broker.pub")
    except airlock.ConnectFailed as error:
        print(f"connect-unpinned: ConnectFailed {bool(error.message)}")

    with airlock.connect(socket, key=key, broker_key=broker_key) as broker:
        probe = broker.unit("probe")
        attempt("echo", lambda: probe.call("echo", b"hello from Python"))
        attempt("echo-str", lambda: probe.call("echo", "text"))
        attempt("denied", lambda: probe.call("read", "/etc/passwd"))
        attempt("crash", lambda: probe.call("crash"))
        attempt("after-crash", lambda: probe.call("echo", b"still served"))
        attempt("timeout", lambda: probe.call("hang", timeout=0.3))
        attempt("no-unit", lambda: broker.unit("nonexistent").call("echo"))

        other = []
        thread = threading.Thread(target=lambda: other.append(
            _catch(lambda: probe.call("echo", b"from another thread"))))
        thread.start()
        thread.join()
        print(f"other-thread: {other[0]}")

        ran = broker.unit("cat").run(["-"], input=b"piped through cat")
        print(f"run: status={ran.status} signal={ran.signal} stdout={ran.stdout.decode()} "
              f"cut={ran.output_cut}")
        print(f"denied-is-error: {issubclass(airlock.Denied, airlock.Error)}")

        with open(file, "rb") as handed:
            grant = airlock.Grant(name, "r", fd=handed.fileno())
            attempt("granted-fd", lambda: broker.unit("granted").call("read", name,
                                                                      grants=[grant]))
            wider = airlock.Grant(name, "read,write", fd=handed.fileno())
            attempt("granted-wider", lambda: broker.unit("granted").call("read", name,
                                                                         grants=[wider]))

        typed = broker.unit("typed")
        pong = typed.call_typed(typed_base_id, 0)  # TypedBase.ping(): no params
        print(f"typed-ping: ok {b'pong' in pong} {len(pong) % 8 == 0}")
        attempt("typed-denied", lambda: typed.call_typed(typed_probe_id, 6))  # notGranted
        attempt("typed-malformed", lambda: typed.call_typed(typed_probe_id, 0, b"not words"))
    print("done")


def _catch(action):
    try:
        return action()
    except airlock.Error as error:
        return type(error).__name__


if __name__ == "__main__":
    main(*sys.argv[1:])

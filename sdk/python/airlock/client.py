"""Hosts: connecting to airlockd and calling units, over libairlock's C ABI."""

import ctypes
import threading
from dataclasses import dataclass

from ._library import _Grant, lib
from ._payload import as_bytes
from .errors import error_for

_P = ctypes.c_void_p


def _timeout_ms(timeout):
    """Seconds (float) to the C ABI's milliseconds; None or 0: the unit's own timeout."""
    if not timeout:
        return 0
    if timeout < 0:
        raise ValueError("timeout must not be negative")
    return min(max(1, round(timeout * 1000)), 2**32 - 1)


def _read(function, reply):
    size = ctypes.c_size_t(0)
    pointer = function(reply, ctypes.byref(size))
    return ctypes.string_at(pointer, size.value) if size.value else b""


class _Reply:
    """One airlock_reply, freed when the with-block ends."""

    def __init__(self):
        self.handle = _P()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        lib.airlock_reply_free(self.handle)
        self.handle = _P()

    def check(self, status):
        """Raises the status's exception unless it is AIRLOCK_OK."""
        if status == 0:
            return
        if not self.handle:
            raise error_for(status, "no reply (out of memory)")
        raise error_for(status, lib.airlock_reply_message(self.handle).decode(errors="replace"),
                        lib.airlock_reply_rule(self.handle).decode(errors="replace"),
                        lib.airlock_reply_describe(self.handle).decode(errors="replace"))


_MODE_BITS = {"read": 1, "write": 2, "create": 4, "truncate": 8, "append": 16}


@dataclass
class Grant:
    """What one call alone may reach (docs/policy.md "Call-scoped grants"): `path` with `modes`
    ("read", "read,write", or their first letters "r", "rw"), or, with `fd` (an open file's
    fileno(): a regular file or a directory), this process's file served to the worker that
    opens `path`, never with more than `fd` permits. The call sends a copy of `fd`."""
    path: str
    modes: str = "read"
    fd: int = -1

    def _bits(self):
        # "read,write" by names; "rw" by first letters.
        whole = "," in self.modes or self.modes in _MODE_BITS
        names = self.modes.split(",") if whole else list(self.modes)
        bits = 0
        for name in names:
            full = next((m for m in _MODE_BITS if name in (m, m[0])), None)
            if full is None:
                raise ValueError(f"grant {self.path!r}: unknown mode {name!r}")
            bits |= _MODE_BITS[full]
        return bits


@dataclass
class RunResult:
    """What one run of a program unit gave: its exit (status, or the signal that ended it) and
    its output, each cut at the unit's max_payload_bytes (output_cut says so)."""
    status: int
    signal: int
    stdout: bytes
    stderr: bytes
    output_cut: bool
    refused_syscall: str


class Unit:
    """A unit of a connection: client.unit("thumbnailer")."""

    def __init__(self, client, name):
        self._client = client
        self.name = name
        self._name = name.encode()  # once, not per call

    def call(self, method, data=b"", timeout=None, grants=()):
        """Calls `method` with `data` (bytes, or str as UTF-8); returns the answer's bytes.
        Raises airlock.Denied, UnitCrashed, TimedOut, Busy, ... (airlock.Error) otherwise.
        `timeout` (seconds) shortens the unit's call_timeout_ms, never lengthens it. `grants`:
        airlock.Grant values handed to this call alone (at most 32)."""
        payload = as_bytes(data)
        with _Reply() as reply:
            if grants:
                handed = (_Grant * len(grants))(
                    *[_Grant(g.path.encode(), g._bits(), g.fd) for g in grants])
                status = lib.airlock_call_granted(
                    self._client._handle(), self._name, method.encode(), payload, len(payload),
                    handed, len(grants), _timeout_ms(timeout), ctypes.byref(reply.handle))
            else:
                status = lib.airlock_call(self._client._handle(), self._name, method.encode(),
                                          payload, len(payload), _timeout_ms(timeout),
                                          ctypes.byref(reply.handle))
            reply.check(status)
            return _read(lib.airlock_reply_data, reply.handle)

    def run(self, args=(), input=b"", timeout=None):
        """Runs a program unit once with `args` and `input` as its stdin (decided as method
        "run"); returns a RunResult, or raises airlock.Error when it did not run."""
        encoded = [as_bytes(arg) for arg in args]
        argv = (ctypes.c_char_p * max(1, len(encoded)))(*encoded)
        stdin = as_bytes(input)
        with _Reply() as reply:
            status = lib.airlock_run(self._client._handle(), self._name, argv,
                                     len(encoded), stdin, len(stdin), _timeout_ms(timeout),
                                     ctypes.byref(reply.handle))
            reply.check(status)
            return RunResult(lib.airlock_reply_exit_status(reply.handle),
                             lib.airlock_reply_signal(reply.handle),
                             _read(lib.airlock_reply_stdout, reply.handle),
                             _read(lib.airlock_reply_stderr, reply.handle),
                             bool(lib.airlock_reply_output_cut(reply.handle)),
                             lib.airlock_reply_refused_syscall(reply.handle).decode())

    def call_typed(self, interface_id, method_id, params=b""):
        """A method of the unit's typed interface: `params` is its parameter struct as one
        unpacked Cap'n Proto message (b"": the defaults); returns the result struct as one."""
        params = as_bytes(params)
        with _Reply() as reply:
            status = lib.airlock_call_typed(self._client._handle(), self._name,
                                            interface_id, method_id, params, len(params),
                                            ctypes.byref(reply.handle))
            reply.check(status)
            return _read(lib.airlock_reply_data, reply.handle)


class Client:
    """A connection to airlockd, authenticated. Used on the thread that opened it only (its
    event loop is that thread's), one per thread at a time; close() it or use `with`."""

    def __init__(self, handle):
        self._client = handle
        self._thread = threading.get_ident()

    def _handle(self):
        if not self._client:
            raise ValueError("this airlock connection is closed")
        return self._client

    def unit(self, name):
        return Unit(self, name)

    def close(self):
        # Freed on its own thread only (libairlock leaves it alone on another): a Client
        # collected elsewhere is leaked, not broken.
        if self._client and self._thread == threading.get_ident():
            lib.airlock_client_free(self._client)
        self._client = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # at interpreter exit the library may already be unloaded
            pass


def connect(socket, key, broker_key):
    """Connects to airlockd at `socket` as the client whose secret key file is `key` (NAME.key,
    mode 0600), accepting only the airlockd whose public key file is `broker_key`."""
    handle = _P()
    error = _P()
    status = lib.airlock_connect(str(socket).encode(), str(key).encode(),
                                 str(broker_key).encode(), ctypes.byref(handle),
                                 ctypes.byref(error))
    if status != 0:
        message = ctypes.string_at(error).decode(errors="replace") if error else ""
        lib.airlock_string_free(error)
        raise error_for(status, message)
    return Client(handle)

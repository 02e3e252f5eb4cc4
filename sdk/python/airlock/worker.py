"""Python workers: a script airlockd runs sandboxed as a unit's worker ([unit] python_worker).

    from airlock import worker

    @worker.method("parse")
    def parse(call):
        with call.fs.open(call.payload.decode(), "r") as file:  # brokered: the policy decides
            return summarize(file.read())

    worker.serve()

A method gets one Call and returns its answer (bytes, or str sent as UTF-8); an exception it
raises fails the call with its text (the host sees airlock.WorkerFailed). Through the call only,
and only while it runs: call.fs.open (a Python file object on the brokered descriptor),
call.net.connect / connect_unix (a socket object), call.secrets.get, call.invoke and call.log,
each decided by the unit's policy and recorded by airlockd. A refusal raises airlock.Denied; an
allowed request that failed raises airlock.WorkerFailed. Methods run one at a time.
"""

import ctypes
import os
import socket as _socket
import sys

from . import _worker_library
from ._payload import as_bytes
from .errors import error_for

_lib = _worker_library.lib
_P = ctypes.c_void_p
_CHARS = ctypes.POINTER(ctypes.c_char)

# airlock_worker.h's enum airlock_open_flag.
_READ, _WRITE, _CREATE, _TRUNCATE, _APPEND, _EXCLUSIVE = 1, 2, 4, 8, 16, 32
_LOG_LEVELS = {"debug": 0, "info": 1, "warn": 2, "error": 3}


def _open_flags(mode):
    """open()'s mode letters as airlock_open_flag bits: r, w, a, x, with + and b."""
    if not mode or len(set(mode)) != len(mode) or set(mode) - set("rwaxb+t"):
        raise ValueError(f"invalid mode: {mode!r}")
    kinds = [letter for letter in mode if letter in "rwax"]
    if len(kinds) != 1:
        raise ValueError(f"mode {mode!r}: exactly one of r, w, a and x")
    flags = {"r": _READ, "w": _WRITE | _CREATE | _TRUNCATE, "a": _WRITE | _CREATE | _APPEND,
             "x": _WRITE | _CREATE | _EXCLUSIVE}[kinds[0]]
    if "+" in mode:
        flags |= _READ | _WRITE
    return flags


class _Answer:
    """An out-pointer for a message, and the check that raises the status's exception."""

    def __init__(self):
        self.message = _CHARS()

    def check(self, status):
        text = ctypes.string_at(self.message).decode(errors="replace") if self.message else ""
        _lib.airlock_string_free(ctypes.cast(self.message, _P))
        self.message = _CHARS()
        if status != 0:
            raise error_for(status, text)


class Fs:
    def __init__(self, call):
        self._call = call

    def open(self, path, mode="r", buffering=-1, encoding=None, errors=None, newline=None):
        """open()'s arguments; the host path is opened by airlockd as the unit's fs.open rules
        allow, and the file object is over the descriptor it passed."""
        path = os.fsencode(path)
        fd = ctypes.c_int(-1)
        answer = _Answer()
        answer.check(_lib.airlock_worker_fs_open(self._call._handle(), path, len(path),
                                                 _open_flags(mode), ctypes.byref(fd),
                                                 ctypes.byref(answer.message)))
        return os.fdopen(fd.value, mode, buffering, encoding, errors, newline)


class Net:
    def __init__(self, call):
        self._call = call

    def connect(self, host, port):
        """A connected TCP socket to host:port, as the unit's net.connect rules allow."""
        return self._socket(_lib.airlock_worker_net_connect, host.encode(), port)

    def connect_unix(self, path):
        """A connected Unix stream socket at the host path, as a rule's unix_path allows."""
        return self._socket(_lib.airlock_worker_net_connect_unix, os.fsencode(path))

    def _socket(self, function, *arguments):
        fd = ctypes.c_int(-1)
        answer = _Answer()
        answer.check(function(self._call._handle(), *arguments, ctypes.byref(fd),
                              ctypes.byref(answer.message)))
        return _socket.socket(fileno=fd.value)


class Secrets:
    def __init__(self, call):
        self._call = call

    def get(self, name):
        """The secret's bytes, as the unit's secrets.get rules allow (the C copy is wiped)."""
        value = _CHARS()
        size = ctypes.c_size_t(0)
        answer = _Answer()
        answer.check(_lib.airlock_worker_secret_get(self._call._handle(), name.encode(),
                                                    ctypes.byref(value), ctypes.byref(size),
                                                    ctypes.byref(answer.message)))
        try:
            return ctypes.string_at(value, size.value)
        finally:
            _lib.airlock_secret_free(value, size.value)


class Call:
    """One host call being served; valid only while its method runs."""

    def __init__(self, handle):
        self.__handle = handle
        self.method = _lib.airlock_worker_call_method(handle).decode()
        size = ctypes.c_size_t(0)
        pointer = _lib.airlock_worker_call_payload(handle, ctypes.byref(size))
        self.payload = ctypes.string_at(pointer, size.value) if size.value else b""
        self.fs = Fs(self)
        self.net = Net(self)
        self.secrets = Secrets(self)

    def _handle(self):
        if self.__handle is None:
            raise RuntimeError("this call has ended: its capabilities expired with it")
        return self.__handle

    def invoke(self, unit, method, payload=b""):
        """Calls another unit's method through airlockd (both policies must allow it)."""
        payload = as_bytes(payload)
        answer_pointer = _CHARS()
        size = ctypes.c_size_t(0)
        answer = _Answer()
        answer.check(_lib.airlock_worker_invoke(self._handle(), unit.encode(), method.encode(),
                                                payload, len(payload),
                                                ctypes.byref(answer_pointer), ctypes.byref(size),
                                                ctypes.byref(answer.message)))
        try:
            return ctypes.string_at(answer_pointer, size.value)
        finally:
            _lib.airlock_string_free(ctypes.cast(answer_pointer, _P))

    def log(self, message, level="info"):
        """One line in airlockd's log, tagged with the unit and this worker's pid."""
        data = as_bytes(message)
        _lib.airlock_worker_log(self._handle(), _LOG_LEVELS[level], data, len(data))

    def _end(self):
        self.__handle = None


class Worker:
    """The methods of one worker script; serve() runs them until airlockd closes the channel."""

    def __init__(self):
        self._methods = {}

    def method(self, name):
        """Decorator: registers the function as the method `name`."""
        def register(function):
            self._methods[name] = function
            return function
        return register

    def serve(self):
        """Serves calls until airlockd closes the channel, then exits the process (status 0)."""
        handle = _lib.airlock_worker_new(0, None)
        if not handle:
            sys.exit("airlock worker: out of memory")
        for name in self._methods:
            _lib.airlock_worker_pull(handle, name.encode())
        status = 0
        while True:
            call_handle = _P()
            status = _lib.airlock_worker_next(handle, ctypes.byref(call_handle))
            if status != 0 or not call_handle:
                break
            self._run(call_handle)
        _lib.airlock_worker_free(handle)
        sys.exit(0 if status == 0 else 1)

    def _run(self, call_handle):
        call = Call(call_handle)
        try:
            result = self._methods[call.method](call)
            data = as_bytes(result)
            _lib.airlock_worker_call_reply(call_handle, data, len(data))
        except Exception as error:  # the method's failure is the call's answer, not the worker's
            text = f"{type(error).__name__}: {error}".encode(errors="replace")
            _lib.airlock_worker_call_fail(call_handle, text.replace(b"\0", b" "))
        finally:
            call._end()
            _lib.airlock_worker_call_done(call_handle)


# The worker of this script: `@worker.method(...)` and `worker.serve()` on the module.
_default = Worker()
method = _default.method
serve = _default.serve

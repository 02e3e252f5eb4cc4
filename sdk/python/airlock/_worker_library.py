"""Loading the worker C ABI (sdk/c/airlock_worker.h) with ctypes, inside a Python worker's sandbox.

airlockd starts a unit's `python_worker` script with $AIRLOCK_WORKER_LIBRARY naming
libairlock-python-worker.so, which it binds read-only and executable into the sandbox
(sandbox/python_worker.h). The script is served through the pull form (airlock_worker_next): C
never calls back into Python, since a ctypes callback needs writable executable memory.
"""

import ctypes
import os

from ._abi import ABI_VERSION

_P = ctypes.c_void_p
_CHARS = ctypes.POINTER(ctypes.c_char)
_FD_OUT = ctypes.POINTER(ctypes.c_int)
_MESSAGE_OUT = ctypes.POINTER(_CHARS)
_SIZE_OUT = ctypes.POINTER(ctypes.c_size_t)

# The functions of airlock_worker.h a Python worker uses: name, result type, argument types.
_FUNCTIONS = [
    ("airlock_abi_version", ctypes.c_int, []),
    ("airlock_status_name", ctypes.c_char_p, [ctypes.c_int]),
    ("airlock_string_free", None, [_P]),
    ("airlock_worker_new", _P, [ctypes.c_int, _P]),
    ("airlock_worker_free", None, [_P]),
    ("airlock_worker_pull", ctypes.c_int, [_P, ctypes.c_char_p]),
    ("airlock_worker_next", ctypes.c_int, [_P, ctypes.POINTER(_P)]),
    ("airlock_worker_call_done", None, [_P]),
    ("airlock_worker_call_method", ctypes.c_char_p, [_P]),
    ("airlock_worker_call_payload", _P, [_P, _SIZE_OUT]),
    ("airlock_worker_call_reply", ctypes.c_int, [_P, ctypes.c_char_p, ctypes.c_size_t]),
    ("airlock_worker_call_fail", ctypes.c_int, [_P, ctypes.c_char_p]),
    ("airlock_worker_fs_open", ctypes.c_int,
     [_P, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, _FD_OUT, _MESSAGE_OUT]),
    ("airlock_worker_secret_get", ctypes.c_int,
     [_P, ctypes.c_char_p, _MESSAGE_OUT, _SIZE_OUT, _MESSAGE_OUT]),
    ("airlock_secret_free", None, [_CHARS, ctypes.c_size_t]),
    ("airlock_worker_net_connect", ctypes.c_int,
     [_P, ctypes.c_char_p, ctypes.c_uint16, _FD_OUT, _MESSAGE_OUT]),
    ("airlock_worker_net_connect_unix", ctypes.c_int,
     [_P, ctypes.c_char_p, _FD_OUT, _MESSAGE_OUT]),
    ("airlock_worker_invoke", ctypes.c_int,
     [_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, _MESSAGE_OUT,
      _SIZE_OUT, _MESSAGE_OUT]),
    ("airlock_worker_log", ctypes.c_int, [_P, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]),
]


def _load():
    path = os.environ.get("AIRLOCK_WORKER_LIBRARY")
    if not path:
        raise ImportError("AIRLOCK_WORKER_LIBRARY is not set: a Python worker is started by "
                          "airlockd from a unit's python_worker (docs/policy.md), which sets it")
    library = ctypes.CDLL(path)
    for name, result, arguments in _FUNCTIONS:
        function = getattr(library, name)
        function.restype = result
        function.argtypes = arguments
    version = library.airlock_abi_version()
    if version != ABI_VERSION:
        raise ImportError(f"{path} has ABI version {version}; this airlock package needs "
                          f"{ABI_VERSION}: install matching airlock and python3-airlock")
    return library


lib = _load()

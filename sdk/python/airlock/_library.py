"""Finding and loading libairlock (sdk/c/airlock.h) with ctypes, and declaring its functions.

Where the library comes from, first found wins:
  1. $AIRLOCK_LIBRARY: a path to libairlock.so.0 (or a build's libairlock.so);
  2. the build tree, when this package is imported from BUILD/python/airlock (the link the
     build makes): BUILD/lib/libairlock.so.0;
  3. the installed name, libairlock.so.0, found by the dynamic linker (libairlock0's package).
"""

import ctypes
import os

from ._abi import ABI_VERSION

SONAME = "libairlock.so.0"


def _candidates():
    configured = os.environ.get("AIRLOCK_LIBRARY")
    if configured:
        yield configured
        return  # named explicitly: no silent fallback to another copy
    # Not resolved: in a build tree this package is reached through BUILD/python/airlock.
    package_dir = os.path.dirname(os.path.abspath(__file__))
    build_library = os.path.join(os.path.dirname(os.path.dirname(package_dir)), "lib", SONAME)
    if os.path.exists(build_library):
        yield build_library
    yield SONAME


def _load():
    tried = []
    for candidate in _candidates():
        try:
            library = ctypes.CDLL(candidate)
        except OSError as error:
            tried.append(f"{candidate}: {error}")
            continue
        _declare(library)
        version = library.airlock_abi_version()
        if version != ABI_VERSION:
            raise ImportError(f"{candidate} has ABI version {version}; this airlock package "
                              f"needs {ABI_VERSION}: install matching libairlock0 and "
                              "python3-airlock")
        return library
    raise ImportError("cannot load libairlock (" + "; ".join(tried) + "); install libairlock0 "
                      "or set AIRLOCK_LIBRARY to the path of libairlock.so.0")


_P = ctypes.c_void_p
_SIZE_OUT = ctypes.POINTER(ctypes.c_size_t)


class _Grant(ctypes.Structure):
    """airlock.h's airlock_grant."""
    _fields_ = [("path", ctypes.c_char_p), ("modes", ctypes.c_uint), ("fd", ctypes.c_int)]

# Every function of airlock.h: name, result type, argument types.
_FUNCTIONS = [
    ("airlock_abi_version", ctypes.c_int, []),
    ("airlock_status_name", ctypes.c_char_p, [ctypes.c_int]),
    ("airlock_string_free", None, [_P]),
    ("airlock_connect", ctypes.c_int,
     [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(_P), ctypes.POINTER(_P)]),
    ("airlock_client_free", None, [_P]),
    ("airlock_reply_free", None, [_P]),
    ("airlock_reply_status", ctypes.c_int, [_P]),
    ("airlock_reply_data", _P, [_P, _SIZE_OUT]),
    ("airlock_reply_message", ctypes.c_char_p, [_P]),
    ("airlock_reply_rule", ctypes.c_char_p, [_P]),
    ("airlock_reply_describe", ctypes.c_char_p, [_P]),
    ("airlock_call", ctypes.c_int,
     [_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32,
      ctypes.POINTER(_P)]),
    ("airlock_call_granted", ctypes.c_int,
     [_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t,
      ctypes.POINTER(_Grant), ctypes.c_size_t, ctypes.c_uint32, ctypes.POINTER(_P)]),
    ("airlock_run", ctypes.c_int,
     [_P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t, ctypes.c_char_p,
      ctypes.c_size_t, ctypes.c_uint32, ctypes.POINTER(_P)]),
    ("airlock_reply_exit_status", ctypes.c_int, [_P]),
    ("airlock_reply_signal", ctypes.c_int, [_P]),
    ("airlock_reply_stdout", _P, [_P, _SIZE_OUT]),
    ("airlock_reply_stderr", _P, [_P, _SIZE_OUT]),
    ("airlock_reply_output_cut", ctypes.c_int, [_P]),
    ("airlock_reply_refused_syscall", ctypes.c_char_p, [_P]),
    ("airlock_call_typed", ctypes.c_int,
     [_P, ctypes.c_char_p, ctypes.c_uint64, ctypes.c_uint16, ctypes.c_char_p, ctypes.c_size_t,
      ctypes.POINTER(_P)]),
]


def _declare(library):
    for name, result, arguments in _FUNCTIONS:
        function = getattr(library, name)
        function.restype = result
        function.argtypes = arguments


lib = _load()

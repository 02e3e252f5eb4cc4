"""airlock for Python hosts: call units through airlockd, with only the standard library.

    import airlock
    with airlock.connect("/run/airlock/airlock.sock", key="web.key",
                         broker_key="/etc/airlock/broker.pub") as broker:
        png = broker.unit("thumbnailer").call("thumbnail", "/srv/images/cat.png")

Python workers: airlock.worker (@worker.method("parse"), then worker.serve()).

A thin layer over libairlock (the C ABI, <airlock/airlock.h>) through ctypes; docs/c-and-python.md.
"""

from .errors import (BadRequest, BrokerError, Busy, ConnectFailed, Denied, Disconnected, Error,
                     InvalidArgument, LibraryError, NoAnswer, NoSuchMethod, NoSuchUnit, TimedOut,
                     UnitCrashed, UnitUnavailable, WorkerFailed, WrongThread)

__all__ = [
    "connect", "Client", "Unit", "Grant", "RunResult", "Error", "Denied", "UnitCrashed",
    "TimedOut", "BadRequest", "UnitUnavailable", "NoSuchMethod", "WorkerFailed", "NoSuchUnit",
    "BrokerError", "Disconnected", "Busy", "ConnectFailed", "InvalidArgument", "WrongThread",
    "LibraryError", "NoAnswer",
]

# The host side loads libairlock when first used, so that `airlock.worker` imports without it
# inside a Python worker's sandbox, which holds only the worker library.
_CLIENT_NAMES = ("connect", "Client", "Unit", "Grant", "RunResult")


def __getattr__(name):
    if name in _CLIENT_NAMES:
        from . import client
        return getattr(client, name)
    raise AttributeError(f"module 'airlock' has no attribute '{name}'")

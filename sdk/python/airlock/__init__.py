"""airlock for Python hosts: call units through airlockd, with only the standard library.

    import airlock
    with airlock.connect("/run/airlock/airlock.sock", key="web.key",
                         broker_key="/etc/airlock/broker.pub") as broker:
        png = broker.unit("thumbnailer").call("thumbnail", "/srv/images/cat.png")

A thin layer over libairlock (the C ABI, <airlock/airlock.h>) through ctypes; docs/c-and-python.md.
"""

from .client import Client, RunResult, Unit, connect
from .errors import (BadRequest, BrokerError, Busy, ConnectFailed, Denied, Disconnected, Error,
                     InvalidArgument, LibraryError, NoAnswer, NoSuchMethod, NoSuchUnit, TimedOut,
                     UnitCrashed, UnitUnavailable, WorkerFailed, WrongThread)

__all__ = [
    "connect", "Client", "Unit", "RunResult", "Error", "Denied", "UnitCrashed", "TimedOut",
    "BadRequest", "UnitUnavailable", "NoSuchMethod", "WorkerFailed", "NoSuchUnit",
    "BrokerError", "Disconnected", "Busy", "ConnectFailed", "InvalidArgument", "WrongThread",
    "LibraryError", "NoAnswer",
]

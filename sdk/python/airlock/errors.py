"""The exceptions a call raises: one class per status of airlock.h (enum airlock_status)."""

import importlib
import sys


def _status_name(status):
    """airlock_status_name from the library in use: the worker library inside a Python worker
    (where libairlock, the host library, is not loaded), libairlock otherwise."""
    worker = sys.modules.get(__package__ + "._worker_library")
    library = worker.lib if worker is not None else importlib.import_module(
        __package__ + "._library").lib
    return library.airlock_status_name(status).decode()


class Error(Exception):
    """A call or connection that did not succeed.

    status: airlock.h's code; kind: its name ("denied", ...); message: why; rule: the policy rule
    that decided it (for Denied, Busy and a parked unit; "" otherwise)."""

    def __init__(self, status, message, rule="", described=None):
        self.status = status
        self.kind = _status_name(status)
        self.message = message
        self.rule = rule
        super().__init__(described or f"{self.kind}: {message}")


class Denied(Error):
    """The policy refused the call (rule names the rule)."""


class UnitCrashed(Error):
    """The worker died while handling the call."""


class TimedOut(Error):
    """No answer within the unit's call timeout or the call's own."""


class BadRequest(Error):
    """Malformed arguments, e.g. a payload over the unit's max_payload_bytes."""


class UnitUnavailable(Error):
    """No worker could be started, or the unit is parked after a crash loop (rule names it)."""


class NoSuchMethod(Error):
    pass


class WorkerFailed(Error):
    """The method reported an error (message says it)."""


class NoSuchUnit(Error):
    pass


class BrokerError(Error):
    """airlockd could not complete the call (e.g. its audit log is unwritable)."""


class Disconnected(Error):
    """The connection to airlockd was lost."""


class Busy(Error):
    """The unit is at its flow limit (rule names it); nothing ran: try later."""


class ConnectFailed(Error):
    """No socket, an unusable key, a peer that is not the pinned airlockd, or its refusal."""


class InvalidArgument(Error):
    pass


class WrongThread(Error):
    """A connection is used only on the thread that opened it."""


class LibraryError(Error):
    pass


class NoAnswer(Error):
    """A worker's invoke of another unit got no answer (no such unit or method, crashed, ...)."""


# The status codes of airlock.h, each with its class: the one table.
BY_STATUS = {
    1: Denied, 2: UnitCrashed, 3: TimedOut, 4: BadRequest, 5: UnitUnavailable, 6: NoSuchMethod,
    7: WorkerFailed, 8: NoSuchUnit, 9: BrokerError, 10: Disconnected, 11: Busy,
    100: ConnectFailed, 101: InvalidArgument, 102: WrongThread, 103: LibraryError, 104: NoAnswer,
}


def error_for(status, message, rule="", described=None):
    return BY_STATUS.get(status, Error)(status, message, rule, described)

"""A unit's Python worker (PythonWorkerTest): echo, brokered reads, a standard-library parser on a
brokered file, and an untrusted package (untrusted/) that reaches for what the sandbox refuses."""

import sys
import xml.etree.ElementTree as ElementTree

import airlock
from airlock import worker

import untrusted.notes  # from [sandbox] read_only_paths: read-only, never executable


@worker.method("echo")
def echo(call):
    return call.payload


@worker.method("read")
def read(call):
    with call.fs.open(call.payload.decode(), "rb") as file:
        return file.read()


@worker.method("count-items")
def count_items(call):
    """A pure-Python parser from the standard library, reading only through a brokered fd."""
    with call.fs.open(call.payload.decode(), "r", encoding="utf-8") as file:
        tree = ElementTree.parse(file)
    return str(len(tree.getroot().findall("item")))


@worker.method("refusal")
def refusal(call):
    """What a refused open raises, as the method sees it."""
    try:
        call.fs.open(call.payload.decode(), "r")
    except airlock.Denied as denied:
        return f"{type(denied).__name__} kind={denied.kind}"
    return "opened"


@worker.method("steal-shadow")
def steal_shadow(call):
    return untrusted.notes.steal_shadow(call)


@worker.method("phone-home")
def phone_home(call):
    host, port = call.payload.decode().split(":")
    return untrusted.notes.phone_home(host, int(port))


@worker.method("log")
def log(call):
    call.log(call.payload, "warn")
    return "logged"


@worker.method("python")
def python(call):
    return sys.version.split()[0]


worker.serve()

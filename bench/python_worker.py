"""The bench's Python worker (airlock-bench-python-host): a no-op method, as airlock-bench-worker's."""

from airlock import worker


@worker.method("noop")
def noop(call):
    return call.payload


worker.serve()

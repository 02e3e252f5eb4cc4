"""The C ABI version this package was written for: airlock.h's AIRLOCK_ABI_VERSION, checked
against libairlock (hosts, _library.py) and the worker library (workers, _worker_library.py)."""

ABI_VERSION = 0

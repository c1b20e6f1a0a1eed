"""Fewer glibc malloc arenas for the local system's process.

glibc gives a thread that finds the arenas in use busy an arena of its own, up to 8 per core. The local system
runs hundreds of threads (a request's, each waiting Step Functions execution's, the stream consumers') that
allocate memory freed later by other threads, and each arena keeps its own free space: resident memory the
process cannot reuse elsewhere. Two arenas keep that free space in two places (bench/results.md, issue 13).
Python's small objects come from its own allocator; this touches only larger blocks (long strings, big dicts
and lists). Only `python -m local run` calls it, before it starts any thread; elsewhere (macOS, musl) there is
no such setting and nothing changes."""
from __future__ import annotations

import ctypes
import ctypes.util

ARENAS = 2
_M_ARENA_MAX = -8  # glibc's malloc.h


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """True when glibc took the limit."""
    path = ctypes.util.find_library("c")
    if path is None:
        return False
    try:
        mallopt = ctypes.CDLL(path).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))

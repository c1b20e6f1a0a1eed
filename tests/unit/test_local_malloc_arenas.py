"""local/malloc_arenas.py: glibc takes the arena limit; a platform without glibc's mallopt is left alone."""
from __future__ import annotations

import ctypes.util
import platform

import pytest

from local import malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="M_ARENA_MAX is glibc's")
def test_glibc_takes_the_limit() -> None:
    assert malloc_arenas.limit_malloc_arenas() is True


def test_no_c_library_found_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert malloc_arenas.limit_malloc_arenas() is False


def test_a_c_library_without_mallopt_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoMallopt:
        def __init__(self, path: str) -> None:
            pass

    monkeypatch.setattr(malloc_arenas.ctypes, "CDLL", NoMallopt)
    assert malloc_arenas.limit_malloc_arenas() is False

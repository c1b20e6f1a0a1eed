"""local/thread_stacks.py: a thread gives back the stack pages below where it is, keeps what it still uses, and
nothing is released on the main thread or where the C library or /proc is missing."""
from __future__ import annotations

import json
import platform
import re
import threading
from pathlib import Path
from typing import Any, Callable

import pytest

from local import thread_stacks

needs_glibc = pytest.mark.skipif(thread_stacks._libc is None or platform.libc_ver()[0] != "glibc",
                                 reason="pthread_getattr_np and /proc/thread-self are glibc's and Linux's")


def resident_kb(address: int) -> int:
    """Rss of the mapping that holds `address` (/proc/self/smaps)."""
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        bounds = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
        if bounds:
            inside = int(bounds[1], 16) <= address < int(bounds[2], 16)
        elif inside and line.startswith("Rss:"):
            return int(line.split()[1])
    raise AssertionError(f"no mapping holds {address:#x}")


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def run_in_thread(work: Callable[[], Any]) -> Any:
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


@needs_glibc
def test_the_pages_a_deep_call_left_are_given_back() -> None:
    def work() -> tuple[int, int, int]:
        bottom = thread_stacks._stack_bottom(thread_stacks._libc)
        assert bottom is not None
        json.dumps(nested(400))  # the C encoder recurses: tens of KB of stack, left resident after it returns
        touched = resident_kb(bottom)
        released = thread_stacks.release_unused_stack()
        return touched, released, resident_kb(bottom)

    touched, released, after = run_in_thread(work)
    assert released > 0
    assert after < touched - 16


@needs_glibc
def test_the_frames_still_in_use_are_kept() -> None:
    """Released from deep inside C recursion (the JSON encoder calls `default` at the innermost level): the
    encoder's frames above must be intact for it to finish with the right output."""
    class Leaf:
        pass

    def default(leaf: Leaf) -> str:
        assert thread_stacks.release_unused_stack() > 0
        json.dumps(nested(400))  # touch the released pages again
        return "leaf"

    value = nested(300)
    inner = value
    while isinstance(inner[0], list):
        inner = inner[0]
    inner[0] = Leaf()

    text = run_in_thread(lambda: json.dumps(value, default=default))
    assert json.loads(text) == nested(300)


@needs_glibc
def test_the_main_thread_is_left_alone() -> None:
    assert threading.current_thread() is threading.main_thread()
    assert thread_stacks.release_unused_stack() == 0


def test_without_the_c_library_nothing_is_released(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(thread_stacks, "_libc", None)
    assert run_in_thread(thread_stacks.release_unused_stack) == 0


def test_without_proc_nothing_is_released(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(thread_stacks, "_SYSCALL_FILE", "/proc/no-such-file")
    assert thread_stacks._load_libc() is None

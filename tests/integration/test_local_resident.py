"""local/resident.py: a thread's stack below its depth is given back and still works; an execution that waits
for a task token ends as with moto's own wait; the wrapper is pinned to moto's source."""
from __future__ import annotations

import threading
from typing import Any, Callable

import pytest

from local import resident
from local.lambdas import MotoPinError
from tests.integration.test_moto_sfn_threads import callback, fail, machine, run, sfn, succeed

__all__ = ["sfn"]  # the fixture, shared with test_moto_sfn_threads.py


def _stack_rss_kb(address: int) -> int:
    """Resident KB of the mapping that holds `address` (/proc/self/smaps)."""
    inside = False
    for line in open("/proc/self/smaps"):
        head = line.split(" ", 1)[0]
        if "-" in head and ":" not in head:
            low, high = (int(part, 16) for part in head.split("-"))
            inside = low <= address < high
        elif inside and line.startswith("Rss:"):
            return int(line.split()[1])
    raise AssertionError("no mapping holds the thread's stack")


def _deep(n: int) -> int:
    return list(map(_deep, [n - 1]))[0] + 1 if n else 0  # through C: each level takes native stack


@pytest.mark.skipif(not resident._STACKS_RELEASABLE, reason="Linux, glibc and x86_64 only")
def test_a_thread_gives_back_the_stack_below_its_depth_and_can_go_deep_again() -> None:
    seen: dict[str, int] = {}

    def body() -> None:
        seen["depth"] = _deep(900)
        low = resident._lowest_stack_address()
        seen["before"] = _stack_rss_kb(low + 4096)
        seen["released"] = resident.release_stack()
        seen["after"] = _stack_rss_kb(low + 4096)
        seen["again"] = _deep(900)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen["released"] > 0
    assert seen["after"] < seen["before"]
    assert seen["depth"] == seen["again"] == 900


def test_the_main_thread_is_left_alone() -> None:
    assert resident.release_stack() == 0


def test_a_waiting_execution_ends_as_with_moto_s_own_wait(
    sfn: Any, aws: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

    resident.install_stack_release()
    released: list[int] = []
    release = resident.release_stack

    def counted() -> int:
        released.append(release())
        return released[-1]

    monkeypatch.setattr(resident, "release_stack", counted)
    definitions = [machine(callback(ResultPath="$.result", End=True)), machine(callback(End=True))]
    patched = [run(sfn, aws, definitions[0], succeed), run(sfn, aws, definitions[1], fail)]
    assert released, "the waiting thread did not release its stack"
    monkeypatch.setattr(CallbackEndpoint, "wait", CallbackEndpoint.__dict__["wait"].__wrapped__)
    assert patched == [run(sfn, aws, definitions[0], succeed), run(sfn, aws, definitions[1], fail)]
    assert patched[0][0]["status"] == "SUCCEEDED" and patched[1][0]["status"] == "FAILED"


def test_the_wrapper_is_pinned_to_moto_source(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

    wait = CallbackEndpoint.__dict__["wait"]
    monkeypatch.setattr(CallbackEndpoint, "wait", getattr(wait, "__wrapped__", wait))  # moto's own again
    monkeypatch.setitem(resident.SOURCE_PINS, "CallbackEndpoint.wait", "0" * 64)
    with pytest.raises(MotoPinError, match="CallbackEndpoint.wait"):
        resident.install_stack_release()


def test_the_malloc_trimmer_stops() -> None:
    trimmer = resident.MallocTrimmer(interval=0.01).start()
    thread = trimmer._thread
    trimmer.stop()
    assert thread is None or not thread.is_alive()

"""Opt-in CPU accounting of the local system: `CMS_LOCAL_COSTS=costs.jsonl python -m local run`.

Most of the system runs in one process, so a profile of "what costs CPU" must split the process's CPU by what it
served. Each moto action (service.Action), each Lambda handler, each API request and every other thread's
own work is timed with `time.thread_time()` (the calling thread's CPU: waiting for the GIL or for another
thread does not count), exclusive of what it called that is timed on its own (a Step Functions task's
Lambda handler is not counted in moto's `lambda.Invoke` that ran it). Garbage collections are timed by
generation (their time is also inside whatever triggered them). Every `INTERVAL` seconds one JSON line of
cumulative figures is appended to the file, and a table is logged at stop: per-call CPU of two moments of a
run, compared, shows which call's cost grows with the data held. Only this process is measured: with the
Lambda process (local/lambda_process.py) the handlers' own CPU is that process's, and their AWS calls are served
here on its connections' threads; `python -m local run --lambdas-in-process` times each handler here."""
from __future__ import annotations

import gc
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

ENV_VAR = "CMS_LOCAL_COSTS"  # the file to append the figures to; unset: nothing is measured
INTERVAL = 30.0
log = logging.getLogger("local.costs")


class CostAccounting:
    def __init__(self, path: str | Path, interval: float = INTERVAL) -> None:
        self.path = Path(path)
        self.interval = interval
        self._totals: dict[str, list[float]] = {}  # label -> [calls, exclusive CPU seconds]
        self._gc: dict[int, list[float]] = {}  # generation -> [collections, seconds]
        self._lock = threading.Lock()
        self._local = threading.local()
        self._gc_started = 0.0
        self._undo: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self._writer: Optional[threading.Thread] = None
        self._started = time.monotonic()

    # -- timing --------------------------------------------------------------------------------

    def timed(self, label: Callable[[], str], call: Callable[[], Any]) -> Any:
        """`call()`, its CPU counted under `label()` (evaluated after the call, outside the timing)."""
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        frame = [time.thread_time(), 0.0]  # start, CPU of nested timed calls
        stack.append(frame)
        try:
            return call()
        finally:
            elapsed = time.thread_time() - frame[0]
            stack.pop()
            if stack:
                stack[-1][1] += elapsed
            try:
                name = label()
            except Exception:  # noqa: BLE001 - a label must never fail the call it measured
                name = "?"
            with self._lock:
                entry = self._totals.setdefault(name, [0, 0.0])
                entry[0] += 1
                entry[1] += elapsed - frame[1]

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()  # collections hold the GIL: wall time is CPU time
            return
        entry = self._gc.setdefault(int(info["generation"]), [0, 0.0])
        entry[0] += 1
        entry[1] += time.perf_counter() - self._gc_started

    # -- installation --------------------------------------------------------------------------

    def install(self, app: Any) -> None:
        """Time moto's actions, every thread, the app's API requests and its Lambda handlers."""
        from chalice.local import ChaliceRequestHandler
        from moto.core.responses import BaseResponse

        accounting = self

        call_action = BaseResponse.call_action

        def timed_action(response: Any) -> Any:
            return accounting.timed(
                lambda: f"moto {response.service_name}.{response._get_action()}", lambda: call_action(response),
            )

        self._patch(BaseResponse, "call_action", timed_action)

        run = threading.Thread.run

        def timed_run(thread: threading.Thread) -> None:
            target = getattr(thread, "_target", None)
            name = getattr(target, "__qualname__", None) or type(thread).__qualname__
            accounting.timed(lambda: f"thread {name}", lambda: run(thread))

        self._patch(threading.Thread, "run", timed_run)

        handle = ChaliceRequestHandler._generic_handle

        def timed_handle(handler: Any) -> None:
            segment = handler.path.split("?")[0].strip("/").split("/")[0]
            accounting.timed(lambda: f"api {handler.command} /{segment}", lambda: handle(handler))

        for method in ("_generic_handle", "do_GET", "do_POST", "do_PUT", "do_PATCH", "do_DELETE", "do_HEAD",
                       "do_OPTIONS"):
            if method in ChaliceRequestHandler.__dict__:
                self._patch(ChaliceRequestHandler, method, timed_handle)

        originals = dict(app.handler_map)
        for name, handler in originals.items():
            app.handler_map[name] = self._timed_handler(name, handler)
        self._undo.append(lambda: app.handler_map.update(originals))

        gc.callbacks.append(self._on_gc)
        self._undo.append(lambda: gc.callbacks.remove(self._on_gc))
        self._writer = threading.Thread(target=self._write_periodically, name="local-costs", daemon=True)
        self._writer.start()

    def _timed_handler(self, name: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        def timed(event: Any, context: Any) -> Any:
            return self.timed(lambda: f"lambda {name}", lambda: handler(event, context))

        return timed

    def _patch(self, owner: Any, attribute: str, replacement: Callable[..., Any]) -> None:
        original = owner.__dict__[attribute]
        setattr(owner, attribute, replacement)
        self._undo.append(lambda: setattr(owner, attribute, original))

    def uninstall(self) -> None:
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout=5)
        self._write()
        for undo in reversed(self._undo):
            undo()
        self._undo = []
        log.info("CPU by what was served (%s):\n%s", self.path, self.table())

    # -- output --------------------------------------------------------------------------------

    def figures(self) -> dict[str, Any]:
        with self._lock:
            totals = {name: [int(n), round(cpu, 6)] for name, (n, cpu) in self._totals.items()}
            collections = {str(g): [int(n), round(s, 6)] for g, (n, s) in self._gc.items()}
        return {
            "seconds": round(time.monotonic() - self._started, 3),
            "process_cpu": round(time.process_time(), 3),
            "threads": threading.active_count(),
            "totals": totals,
            "gc": collections,
        }

    def table(self) -> str:
        figures = self.figures()
        rows = sorted(figures["totals"].items(), key=lambda item: -item[1][1])
        lines = ["| what | calls | CPU s | ms per call |", "|---|---:|---:|---:|"]
        lines += [f"| {name} | {n} | {cpu:.1f} | {1000 * cpu / max(n, 1):.2f} |" for name, (n, cpu) in rows]
        lines += [f"| gc generation {g} | {n} | {s:.1f} | {1000 * s / max(n, 1):.2f} |"
                  for g, (n, s) in sorted(figures["gc"].items())]
        lines.append(f"process CPU {figures['process_cpu']:.1f} s, {figures['threads']} threads")
        return "\n".join(lines)

    def _write(self) -> None:
        with self.path.open("a") as out:
            out.write(json.dumps(self.figures()) + "\n")

    def _write_periodically(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._write()
            except OSError:
                log.exception("could not write %s", self.path)

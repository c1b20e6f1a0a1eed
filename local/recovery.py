"""After a restart, cases whose workflow run was lost (moto keeps executions in memory only) resume
by themselves: each open case whose run the engine no longer has gets a new run, and the idempotent
steps carry it forward to the stage it had reached.

This runs in a thread once the API serves: with thousands of restored cases, starting their runs took far
longer than the start itself, and nothing else waits for it. It resumes at most RESUMED_PER_SECOND runs a
second: 2,000 runs resumed at once kept moto's DynamoDB busy for minutes, and the API's reads timed out
behind them. Ctrl-C stops it between two cases; the cases not reached resume on the next start."""
from __future__ import annotations

import logging
import threading
from typing import Any, Optional

log = logging.getLogger("local")
RESUMED_PER_SECOND = 10


def resume_lost_runs(container: Any, stop: Optional[threading.Event] = None, pace: float = 0.0) -> int:
    """Resume every lost run; `pace`: seconds to wait after each one (a set `stop` ends the wait and the loop)."""
    from chalicelib.domain.access import Principal
    from chalicelib.services.cases import ListFilters

    system = Principal("local-recovery", frozenset({"admin"}))
    resumed = 0
    cursor: Optional[str] = None
    while True:
        page = container.cases.list(system, ListFilters(), 100, cursor)
        for case in page.items:
            if stop is not None and stop.is_set():
                return resumed
            try:
                if container.workflow.recover(case):
                    resumed += 1
                    if pace and stop is not None:
                        stop.wait(pace)
            except Exception:  # one stuck case must not keep the others from resuming
                log.exception("could not resume the workflow of case %s", case.id)
        cursor = page.next_cursor
        if not cursor:
            return resumed


class RecoveryThread:
    """`resume_lost_runs` for the project's app, in the background."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-recovery", daemon=True)

    def start(self) -> "RecoveryThread":
        self._thread.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Short: a resume blocked in a call to a busy moto must not hold Ctrl-C up (the thread is a daemon,
        and a run it did not resume resumes on the next start)."""
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        from chalicelib import bootstrap

        try:
            resumed = resume_lost_runs(bootstrap.container(), self._stop, pace=1 / RESUMED_PER_SECOND)
        except Exception:  # e.g. moto stopped under it: the next start tries again
            log.exception("could not resume lost workflow runs")
            return
        if resumed:
            log.info("resumed the workflow of %d case(s) whose run was lost", resumed)

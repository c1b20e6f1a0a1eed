"""After a restart, cases whose workflow run was lost (moto keeps executions in memory only) resume
by themselves: each open case whose run the engine no longer has gets a new run, and the idempotent
steps carry it forward to the stage it had reached."""
from __future__ import annotations

import logging
from typing import Any, Optional

log = logging.getLogger("local")


def resume_lost_runs(container: Any) -> int:
    from chalicelib.domain.access import Principal
    from chalicelib.services.cases import ListFilters

    system = Principal("local-recovery", frozenset({"admin"}))
    resumed, cursor = 0, None
    while True:
        page = container.cases.list(system, ListFilters(), 100, cursor)
        for case in page.items:
            try:
                if container.workflow.recover(case):
                    resumed += 1
            except Exception:  # one stuck case must not keep the others from resuming
                log.exception("could not resume the workflow of case %s", case.id)
        cursor: Optional[str] = page.next_cursor
        if not cursor:
            return resumed

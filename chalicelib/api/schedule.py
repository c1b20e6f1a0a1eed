"""What runs on a timer: the sweep that escalates overdue tasks."""
from __future__ import annotations

from typing import Any

from chalice import Rate
from chalice.app import CloudWatchEvent

from ..bootstrap import container
from . import blueprint

handlers = blueprint()


@handlers.schedule(Rate(15, unit=Rate.MINUTES), name="escalate_overdue_tasks")
def escalate_overdue_tasks(event: CloudWatchEvent) -> dict[str, Any]:
    return {"escalated": [task.id for task in container().tasks.escalate_overdue()]}

"""Tasks: inboxes and team queues, claim, complete, reassign (one or in bulk)."""
from __future__ import annotations

from ..bootstrap import container
from ..domain.tasks import (
    BulkReassignment, BulkReassignmentResult, Task, TaskCompletion, TaskList, TaskReassignment,
)
from ..domain.queries import DEFAULT_PAGE, PAGE
from ..errors import Conflict, Forbidden, NotFound
from ..web import ApiRequest, Routes
from . import blueprint

routes = Routes(blueprint())

TASK_FILTERS = ("assignee", "team", "status", "caseId", *PAGE)


@routes.route(
    "/tasks", "GET", summary="Your inbox (assignee=me, the default), a team's queue (team), or a case's tasks (caseId)",
    response=TaskList, query=TASK_FILTERS, raises=(Forbidden, NotFound),
)
def list_tasks(req: ApiRequest[None]) -> TaskList:
    from ..services.tasks import TaskFilters  # services load with the container, on the first request

    filters = TaskFilters(
        assignee=req.query("assignee"), team=req.query("team"), status=req.query("status"), case_id=req.query("caseId"),
    )
    return container().tasks.list(req.principal, filters, req.int_query("limit", DEFAULT_PAGE), req.query("cursor"))


@routes.route(
    "/tasks/reassign", "POST", summary="Reassign all open tasks of a person, or the listed tasks (supervisors)",
    body=BulkReassignment, response=BulkReassignmentResult, raises=(Forbidden,),
)
def reassign_tasks(req: ApiRequest[BulkReassignment]) -> BulkReassignmentResult:
    return container().tasks.bulk_reassign(req.principal, req.body)


@routes.route("/tasks/{task_id}", "GET", summary="Read a task", response=Task)
def get_task(req: ApiRequest[None], task_id: str) -> Task:
    return container().tasks.get(req.principal, task_id)


@routes.route(
    "/tasks/{task_id}/claim", "POST", summary="Take a task from your team's queue", response=Task,
    raises=(Forbidden, Conflict),
)
def claim_task(req: ApiRequest[None], task_id: str) -> Task:
    return container().tasks.claim(req.principal, task_id)


routes.command(
    "/tasks/{task_id}/complete", lambda: container().tasks.complete, name="complete_task",
    summary="Complete a task (its assignee, the team's supervisor, admins)", body=TaskCompletion, optional_body=True,
    response=Task,
)


routes.command(
    "/tasks/{task_id}/reassign", lambda: container().tasks.reassign, name="reassign_task",
    summary="Give a task to an eligible team member, or back to the queue", body=TaskReassignment, response=Task,
)

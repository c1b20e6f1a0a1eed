from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Iterator

import pytest
from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.adapters.memory.decisions import InMemoryDecisionStore
from chalicelib.adapters.memory.delegations import InMemoryDelegationStore
from chalicelib.adapters.memory.tokens import InMemoryTokenStore
from chalicelib.services.approvals import ApprovalService
from chalicelib.services.cases import CaseNumbers, CaseService
from chalicelib.services.compensation import CompensationService
from chalicelib.services.delegations import DelegationService
from chalicelib.services.workflow import Stage, WorkflowResumer, WorkflowService
from chalicelib.settings import DEFAULT_WAIT_SECONDS
from tests.api_support import POOL
from tests.support import FakeEngine, FixedClock, SequentialIds, principal, case_types


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def repo() -> InMemoryCaseRepository:
    return InMemoryCaseRepository()


@pytest.fixture
def service(repo, clock) -> CaseService:
    return CaseService(repo, case_types(), CaseNumbers(repo), clock=clock, new_id=SequentialIds("case"))


@pytest.fixture
def alice():
    return principal("alice", "caseworker", team="general")


@pytest.fixture
def bob():
    return principal("bob", "caseworker", team="claims")


@pytest.fixture
def admin():
    return principal("root", "admin")


@pytest.fixture
def auditor():
    return principal("aud", "auditor")


@pytest.fixture
def approver():
    return principal("ann", "approver")


@pytest.fixture
def container() -> Any:
    """The app's container on in-memory stores, verifying the tokens of tests/api_support.py's POOL; a module
    that needs other settings defines its own `container` fixture."""
    return POOL.container()


@pytest.fixture
def client(container: Any) -> Iterator[Client]:
    """chalice's test client on the app, with `container` in place of the one the app would build."""
    from app import app  # here, not at the top: most unit tests never need the app

    with bootstrap.override(container), Client(app) as test_client:
        yield test_client


class NoWork:
    """A case without tasks: the workflow finds nothing to create, wait for or cancel."""

    def create_within(self, change, now):
        return []

    def open_required_tasks(self, case_id):
        return 0

    def cancel_open_tasks(self, case_id, actor):
        return []

    def escalate(self, case_id, team, reason):
        return None

    def postpone_open_tasks(self, change, paused_at, resumed_at, calendar):
        return []


@pytest.fixture
def system() -> SimpleNamespace:
    """Cases, approvals, compensation and the workflow on in-memory adapters, with a fake engine that records
    resumes and the resume callback counted (`resumes`): the approvals and compensation tests drive it."""
    repo, clock = InMemoryCaseRepository(), FixedClock()
    cases = CaseService(repo, case_types(), CaseNumbers(repo), clock=clock, new_id=SequentialIds("case"))
    engine, tokens, resumer = FakeEngine(), InMemoryTokenStore(), WorkflowResumer()
    store = InMemoryDecisionStore(repo)
    task_people: dict[str, list[str]] = {}
    resumes: list[tuple[str, str]] = []

    def resume(case_id, stage):  # the injected callback, counted
        resumes.append((case_id, stage))
        return resumer.resume_if_ready(case_id, stage)

    delegations = DelegationService(InMemoryDelegationStore(), clock=clock)
    approvals = ApprovalService(
        repo, store, case_types(), resume=resume, task_assignees=lambda case_id: task_people.get(case_id, []),
        on_reject=lambda case_id: [f"cancel open task {case_id}-t2"], delegation_of=delegations.current, clock=clock,
    )
    compensation = CompensationService(repo, store, case_types(), approvals.approved_amount,
                                       approvals.approvers, resume=resume, clock=clock)
    workflow = WorkflowService(
        repo, lambda: engine, tokens, NoWork(), case_types(), dict(DEFAULT_WAIT_SECONDS), clock,
        conditions={Stage.APPROVAL: approvals.decision_if_final, Stage.PAYMENT: compensation.payment_if_confirmed},
        resumer=resumer,
    )
    return SimpleNamespace(repo=repo, cases=cases, workflow=workflow, engine=engine, tokens=tokens, store=store,
                           approvals=approvals, compensation=compensation, task_people=task_people, resumes=resumes,
                           clock=clock, delegations=delegations)

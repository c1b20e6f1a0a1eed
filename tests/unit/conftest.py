from __future__ import annotations

from typing import Any, Iterator

import pytest
from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.domain.case_types import DEFAULT_CASE_TYPES
from chalicelib.services.cases import CaseNumbers, CaseService
from tests.api_support import POOL
from tests.support import FixedClock, SequentialIds, principal


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def repo() -> InMemoryCaseRepository:
    return InMemoryCaseRepository()


@pytest.fixture
def service(repo, clock) -> CaseService:
    return CaseService(repo, DEFAULT_CASE_TYPES, CaseNumbers(repo), clock=clock, new_id=SequentialIds("case"))


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

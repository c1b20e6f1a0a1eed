from __future__ import annotations

import pytest

from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.domain.case_types import DEFAULT_CASE_TYPES
from chalicelib.services.cases import CaseNumbers, CaseService
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

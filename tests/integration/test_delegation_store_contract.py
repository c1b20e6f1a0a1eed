"""One contract, two stores: the in-memory delegation store the unit tests use behaves like the DynamoDB one
(on a fresh table in the moto server): a delegation is written only at the version read, with its log entry."""
from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo.delegations import DynamoDelegationStore
from chalicelib.adapters.memory.delegations import InMemoryDelegationStore
from chalicelib.domain.delegations import DelegationChange, DelegationRequest, delegation_revoked, delegation_set
from chalicelib.ports import StaleWrite
from tests.support import iso_at

REQUEST = DelegationRequest.model_validate({"to": "ann", "from": "2026-03-01T08:00:00Z",
                                            "until": "2026-03-15T18:00:00+01:00"})


@pytest.fixture(params=["memory", "dynamo"])
def store(request):
    if request.param == "memory":
        return InMemoryDelegationStore()
    return DynamoDelegationStore(request.getfixturevalue("dynamo_models"))


def test_a_delegation_is_set_replaced_and_revoked_with_its_log(store):
    assert store.get_delegation("bea") is None and store.list_delegation_log("bea", 10) == []
    first, entry = delegation_set("bea", REQUEST, "bea", iso_at(1), None)
    store.save_delegation(first, entry)
    assert store.get_delegation("bea") == first
    assert (first.from_, first.until, first.version) == ("2026-03-01T08:00:00.000Z", "2026-03-15T17:00:00.000Z", 1)
    second, entry = delegation_set("bea", REQUEST.model_copy(update={"to": "cal"}), "root", iso_at(2), first)
    store.save_delegation(second, entry)
    revoked, entry = delegation_revoked(second, "bea", iso_at(3))
    store.save_delegation(revoked, entry)
    assert store.get_delegation("bea") == revoked and revoked.revoked_by == "bea"
    log = store.list_delegation_log("bea", 10)
    assert [(e.seq, e.type, e.to, e.actor) for e in log] == [
        (3, DelegationChange.REVOKED, "cal", "bea"), (2, DelegationChange.SET, "cal", "root"),
        (1, DelegationChange.SET, "ann", "bea"),
    ]
    assert [e.seq for e in store.list_delegation_log("bea", 2)] == [3, 2]
    assert store.get_delegation("ann") is None  # one person's delegation is theirs alone


def test_a_write_based_on_a_stale_read_changes_nothing(store):
    first, entry = delegation_set("bea", REQUEST, "bea", iso_at(1), None)
    store.save_delegation(first, entry)
    for stale in (None, first.model_copy(update={"version": 5})):  # another writer got there first / no such read
        again, line = delegation_set("bea", REQUEST.model_copy(update={"to": "cal"}), "root", iso_at(2), stale)
        with pytest.raises(StaleWrite):
            store.save_delegation(again, line)
    assert store.get_delegation("bea") == first and len(store.list_delegation_log("bea", 10)) == 1

"""The customer directory over fake data products (no network): the catalog decides which products are
asked, a product that is down serves its last known record stale, a product that hangs is cut off by the
budget, and opening a case never depends on any of it. Then GET /customers/{id} over HTTP in-process."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from chalicelib.adapters.memory.last_known import InMemoryLastKnownStore
from chalicelib.cache.memory import InProcessCache
from chalicelib.domain.customers import SOURCE_FAILED, SourceRecord, SourceState, StaleReason, ViewStatus
from chalicelib.domain.data_products import DataProductDescriptor
from chalicelib.errors import DependencyUnavailable, InvalidInput, NotFound
from chalicelib.ports import SourceUnavailable
from chalicelib.services.customers import CustomerDirectory
from tests.support import START, FixedClock
from tests.api_support import POOL
from tests.unit.test_api import call

CRM, RISK = "crm.customer-profile", "risk.customer-accounts"


def descriptor(product_id: str, protocol: str, entity: str = "customer", sla: int = 86400) -> DataProductDescriptor:
    return DataProductDescriptor.model_validate({
        "id": product_id, "name": product_id, "domain": product_id.split(".")[0], "owner": "team",
        "entity": entity, "outputPorts": [{"name": "port", "protocol": protocol, "location": f"{protocol}://x/y",
                                           "format": "jsonl" if protocol == "s3" else "json"}],
        "schema": [], "freshnessSlaSeconds": sla, "classification": "CONFIDENTIAL",
    })


class Catalog:
    def __init__(self, *products: DataProductDescriptor, down: bool = False) -> None:
        self.items, self.down = list(products), down

    def products(self):
        if self.down:
            raise SourceUnavailable("the catalog is down")
        return self.items


class Source:
    """A product's customer port: answers from `records`, or raises while `down`."""

    def __init__(self, records: dict[str, SourceRecord]) -> None:
        self.records, self.down, self.calls = records, False, 0

    def fetch(self, customer_id: str):
        self.calls += 1
        if self.down:
            raise SourceUnavailable("connection refused")
        return self.records.get(customer_id)


class HangingSource:
    def __init__(self) -> None:
        self.release = threading.Event()

    def fetch(self, customer_id: str):
        self.release.wait(10)
        raise SourceUnavailable("gave up")


def at(hours_old: float, **fields) -> SourceRecord:
    return SourceRecord(fields=fields, as_of=START - timedelta(hours=hours_old))


@pytest.fixture
def mesh():
    crm = Source({"CUST-1": at(2, name="Ada Costa", email="ada@example.com", segment="RETAIL")})
    risk = Source({"CUST-1": at(1, riskBand="LOW", segment="PREMIUM")})
    sources = {CRM: crm, RISK: risk}
    catalog = Catalog(descriptor(CRM, "http"), descriptor(RISK, "s3"), descriptor("cases.case-events", "s3", "case"))
    directory = CustomerDirectory(
        catalog, lambda product: sources.get(product.id), InMemoryLastKnownStore(), timeout_seconds=0.2,
        clock=FixedClock(),
    )
    return directory, crm, risk, catalog




def test_the_view_merges_the_customer_products_of_the_catalog(mesh):
    directory, crm, risk, _ = mesh
    view = directory.view("CUST-1")
    assert view.status == ViewStatus.COMPLETE
    assert {name: f.source for name, f in view.fields.items()} == {
        "name": CRM, "email": CRM, "segment": RISK, "riskBand": RISK,
    }
    assert view.fields["name"].age_seconds == 2 * 3600
    assert [s.product for s in view.sources] == [CRM, RISK]  # the case product is not a customer product


def test_one_source_down_serves_its_last_known_value_flagged_stale(mesh):
    directory, crm, risk, _ = mesh
    directory.view("CUST-1")  # answered: kept as last known
    risk.down = True
    view = directory.view("CUST-1")
    assert view.status == ViewStatus.PARTIAL
    band = view.fields["riskBand"]
    assert (band.value, band.stale, band.stale_reason, band.source) == (
        "LOW", True, StaleReason.SOURCE_UNAVAILABLE, RISK)
    assert view.fields["name"].stale is False
    assert view.sources[1].status == SourceState.STALE and view.sources[1].error == SOURCE_FAILED
    # Stale values lose against fresh ones: the CRM's live segment now wins over risk's last known one.
    assert (view.fields["segment"].value, view.fields["segment"].source) == ("RETAIL", CRM)


def test_a_source_down_with_nothing_known_is_unavailable_and_the_rest_is_served(mesh):
    directory, crm, risk, _ = mesh
    risk.down = True
    view = directory.view("CUST-1")
    assert view.status == ViewStatus.PARTIAL
    assert view.sources[1].status == SourceState.UNAVAILABLE
    assert {f.source for f in view.fields.values()} == {CRM}


def test_a_hanging_source_is_cut_off_by_the_budget(mesh):
    directory, crm, risk, catalog = mesh
    hanging = HangingSource()
    directory._source_for = lambda product: {CRM: crm, RISK: hanging}.get(product.id)
    try:
        view = directory.view("CUST-1")
    finally:
        hanging.release.set()
    assert view.status == ViewStatus.PARTIAL
    assert view.sources[1].status == SourceState.UNAVAILABLE
    assert view.sources[1].error == "no answer within 0.2s"


def test_both_sources_down_with_nothing_known_is_503_and_unknown_customers_are_404(mesh):
    directory, crm, risk, _ = mesh
    with pytest.raises(NotFound):
        directory.view("CUST-2")
    crm.down = risk.down = True
    with pytest.raises(DependencyUnavailable):
        directory.view("CUST-1")


# The contract's ids are CUST- and ASCII digits: not C-1001 (the form POST /cases once took), not other scripts'
# digits (\d would take them), not a final newline (`$` alone would).
BAD_IDS = ["abc", "CUST-", "cust-1", "CUST-1x", "CUST-1234567890123", "", "C-1001", "CUST-\u0661\u0662", "CUST-1\n"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_a_malformed_customer_id_is_a_400_naming_the_field(mesh, bad):
    with pytest.raises(InvalidInput) as raised:
        mesh[0].view(bad)
    assert [d.field for d in raised.value.details] == ["customerId"]


def test_snapshots_never_raise(mesh):
    directory, crm, risk, catalog = mesh
    crm.down = risk.down = True
    assert directory.snapshot("CUST-1").status == ViewStatus.UNAVAILABLE
    catalog.down = True
    assert directory.snapshot("CUST-1").status == ViewStatus.UNAVAILABLE
    assert crm.calls == 1  # the catalog was down on the last call: no product was asked


# -- over HTTP ---------------------------------------------------------------------------------------------

@pytest.fixture
def container(mesh):
    return POOL.container(customers=mesh[0])


NEW_CASE = {"title": "Burst pipe", "caseType": "GENERAL", "priority": "HIGH", "customerId": "CUST-1"}


def test_get_customer_over_http(client):
    assert call(client, "POST", "/cases", "alice", NEW_CASE)[0] == 201  # the auditor sees the customer's case
    status, body, _ = call(client, "GET", "/customers/CUST-1", "aud")
    assert status == 200, body
    assert body["fields"]["name"] == {
        "value": "Ada Costa", "source": CRM, "asOf": "2026-03-01T10:00:00.000Z", "ageSeconds": 7200, "stale": False,
        "staleReason": None,
    }
    assert call(client, "GET", "/customers/CUST-2", "alice")[0] == 404
    status, body, _ = call(client, "GET", "/customers/nobody.here", "alice")
    assert (status, body["error"]["details"][0]["field"]) == (400, "customerId")
    assert call(client, "GET", "/customers/CUST-1")[0] == 401


def test_a_case_keeps_the_customer_snapshot_it_was_opened_with(client, mesh):
    status, case, _ = call(client, "POST", "/cases", "alice", NEW_CASE)
    assert status == 201, case
    assert case["customerSnapshot"]["status"] == "COMPLETE"
    assert case["customerSnapshot"]["fields"]["name"]["value"] == "Ada Costa"
    mesh[1].records["CUST-1"] = at(0, name="Ada Costa-Silva")  # the CRM changes later: the case keeps what it saw
    status, again, _ = call(client, "GET", f"/cases/{case['id']}", "alice")
    assert again["customerSnapshot"] == case["customerSnapshot"]
    # The audit trail records which data the case was opened with, not the personal data itself.
    status, history, _ = call(client, "GET", f"/cases/{case['id']}/history", "alice")
    created = history["items"][0]["data"]
    assert created["customerSnapshot"]["status"] == "COMPLETE" and "fields" not in created["customerSnapshot"]
    assert "Ada Costa" not in str(history)


def test_both_sources_down_the_case_is_still_created_and_its_snapshot_says_unavailable(client, mesh):
    _, crm, risk, _ = mesh
    crm.down = risk.down = True
    status, case, _ = call(client, "POST", "/cases", "alice", NEW_CASE)
    assert status == 201, case
    assert case["customerSnapshot"]["status"] == "UNAVAILABLE" and case["customerSnapshot"]["fields"] == {}
    assert [s["status"] for s in case["customerSnapshot"]["sources"]] == ["UNAVAILABLE", "UNAVAILABLE"]
    assert call(client, "GET", "/customers/CUST-1", "alice")[0] == 503


def test_with_a_cache_each_product_is_asked_once_per_ttl_and_ages_stay_the_products(mesh):
    _, crm, risk, catalog = mesh
    sources = {CRM: crm, RISK: risk}
    clock = FixedClock()
    directory = CustomerDirectory(
        catalog, lambda product: sources.get(product.id), InMemoryLastKnownStore(), timeout_seconds=0.2, clock=clock,
        cache=InProcessCache(), cache_ttl=60,
    )
    first = directory.view("CUST-1")
    clock.advance(seconds=30)
    second = directory.view("CUST-1")
    assert (crm.calls, risk.calls) == (1, 1)
    assert second.fields["name"].age_seconds == first.fields["name"].age_seconds + 30
    assert second.status == ViewStatus.COMPLETE


# -- who may see a customer, and what a failing product reveals ------------------------------------------------

def test_people_who_do_not_work_cases_see_only_customers_of_cases_they_may_see(client, container):
    for user in ("ava", "aud"):  # an approver, an auditor: no case of CUST-1 yet
        refused = call(client, "GET", "/customers/CUST-1", user)
        assert (refused[0], refused[1]["error"]["code"]) == (404, "NOT_FOUND")
    for user in ("alice", "bob", "sam", "ada"):  # people who work cases, whichever team
        assert call(client, "GET", "/customers/CUST-1", user)[0] == 200
    status, case, _ = call(client, "POST", "/cases", "alice", NEW_CASE)
    assert call(client, "GET", "/customers/CUST-1", "aud")[0] == 200  # auditors see every case
    assert call(client, "GET", "/customers/CUST-1", "ava")[0] == 404  # not a case she may read yet
    stored = container.cases._repo.get_case(case["id"])
    container.cases._repo.cases[case["id"]] = stored.model_copy(update={"status": "PENDING_APPROVAL"})
    assert call(client, "GET", "/customers/CUST-1", "ava")[0] == 200  # she reads the case she decides


def test_a_refused_customer_asks_no_product(client, mesh):
    _, crm, risk, _ = mesh
    assert call(client, "GET", "/customers/CUST-1", "ava")[0] == 404
    assert (crm.calls, risk.calls) == (0, 0)


class LeakySource:
    """A product whose failures carry internal addresses and exception text."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def fetch(self, customer_id: str):
        raise self.error


@pytest.mark.parametrize("error", [
    SourceUnavailable("http://10.0.3.7:8443/internal/crm/customers/CUST-1 did not answer: [Errno 111] refused"),
    KeyError("s3://risk-internal-bucket/accounts.jsonl"),
])
def test_a_failing_product_is_named_with_a_generic_status_and_the_details_are_logged(mesh, caplog, error):
    directory, crm, _, _ = mesh
    directory._source_for = lambda product: {CRM: crm, RISK: LeakySource(error)}.get(product.id)
    view = directory.view("CUST-1")
    failed = view.sources[1]
    assert (failed.product, failed.status, failed.error) == (RISK, SourceState.UNAVAILABLE, SOURCE_FAILED)
    text = view.model_dump_json()
    for internal in ("10.0.3.7", "Errno", "internal", "s3://", "KeyError"):
        assert internal not in text
    assert str(error).strip("'") in caplog.text and RISK in caplog.text

"""What only the DynamoDB repository has to get right: single-request transactions, resume keys the
client can tamper with, an unreachable endpoint, and the table it runs on."""
from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from pynamodb.signals import pre_dynamodb_send

from chalicelib.adapters.dynamo import keys as dynamo_keys
from chalicelib.adapters.dynamo.backfill import backfill_case_lists
from chalicelib.adapters.dynamo.cases import DynamoCaseRepository
from chalicelib.adapters.dynamo.changes import case_item

from chalicelib.adapters.dynamo.models import table_models
from chalicelib.domain.access import Visibility
from chalicelib.errors import DependencyUnavailable, InvalidInput
from chalicelib.ports import CaseQuery, IdempotencyKeyTaken, IdempotencyRecord, InvalidStartKey
from chalicelib.services.cases import CaseNumbers, CaseService, ListFilters
from tests.support import (
    FixedClock, SequentialIds, add_comment, case_types, changed, comment_on, concurrently, create_case, fields_of,
    new_case, principal, save_case,
)

REGION = "us-east-1"
EVERYTHING = CaseQuery(visibility=Visibility(everything=True, team=None, username="root"))
ALICE = principal("alice", "caseworker", team="general")


@pytest.fixture
def repo(dynamo_models):
    return DynamoCaseRepository(dynamo_models)


@pytest.fixture
def raw(moto_endpoint):
    """A plain boto3 client, to look at the table as DynamoDB stores it."""
    return boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_endpoint)


def table_items(raw, models) -> list[dict[str, Any]]:
    return raw.scan(TableName=models.case.Meta.table_name, ConsistentRead=True)["Items"]


def keys(items) -> set[tuple[str, str]]:
    return {(item["PK"]["S"], item["SK"]["S"]) for item in items}


class Requests:
    """Every DynamoDB operation the repository sends, and the item count of each transaction."""

    def __init__(self, models) -> None:
        self.operations: list[str] = []
        self.transactions: list[list[str]] = []
        self._table = models.case.Meta.table_name
        models.connection.client.meta.events.register(
            "before-parameter-build.dynamodb.TransactWriteItems", self._on_transaction
        )

    def _on_transaction(self, params: dict[str, Any], **_: Any) -> None:
        self.transactions.append([next(iter(item)) for item in params["TransactItems"]])

    def on_send(self, sender: Any, operation_name: str, table_name: str, **_: Any) -> None:
        if table_name is None or self._table in table_name:
            self.operations.append(operation_name)


@pytest.fixture
def requests(dynamo_models):
    recorder = Requests(dynamo_models)
    pre_dynamodb_send.connect(recorder.on_send)
    yield recorder
    pre_dynamodb_send.disconnect(recorder.on_send)


def _record(case_id: str) -> IdempotencyRecord:
    return IdempotencyRecord(owner="alice", key="k", request_hash=f"hash-of-{case_id}", case_id=case_id,
                             issued_at=1772366400, expires_at=1772452800)


def service_over(repo, clock=None) -> CaseService:
    return CaseService(repo, case_types(), CaseNumbers(repo), clock=clock or FixedClock(),
                       new_id=SequentialIds("case"))


def case_body(**overrides):
    return {"title": "Boiler broken", "caseType": "GENERAL", "priority": "MEDIUM", "customerId": "CUST-1", **overrides}


# -- one request per change ----------------------------------------------------------------------


class TestTransactions:
    def test_case_and_first_event_are_one_transact_write(self, repo, requests):
        create_case(repo, *new_case("case-1"), None)
        assert requests.operations == ["TransactWriteItems"]
        # the case, its event, its creator's copy, and its month entered in the months item
        assert requests.transactions == [["Put", "Put", "Put", "Update"]]

    def test_idempotency_record_joins_the_same_transaction(self, repo, requests):
        create_case(repo, *new_case("case-1"), _record("case-1"))
        assert requests.operations == ["TransactWriteItems"]
        assert requests.transactions == [["Put", "Put", "Put", "Put", "Update"]]

    def test_save_is_one_transaction(self, repo, requests):
        case, event = new_case("case-1")
        create_case(repo, case, event, None)
        updated, update_event = changed(case, title="x")
        save_case(repo, updated, 1, 1, update_event)
        assert requests.operations == ["TransactWriteItems"] * 2
        assert requests.transactions[-1] == ["Put", "Put", "Put"]  # the case, its event, its creator's copy

    def test_comment_is_one_transaction(self, repo, requests):
        case, event = new_case("case-1")
        create_case(repo, case, event, None)
        comment, comment_event = comment_on(case, "cm-1")
        add_comment(repo, comment, 1, comment_event)
        assert requests.operations == ["TransactWriteItems"] * 2
        assert sorted(requests.transactions[-1]) == ["Put", "Put", "Update"]

    def test_taken_idempotency_key_leaves_no_item_behind(self, repo, raw, dynamo_models):
        create_case(repo, *new_case("case-1"), _record("case-1"))
        before = table_items(raw, dynamo_models)
        with pytest.raises(IdempotencyKeyTaken):
            create_case(repo, *new_case("case-2"), _record("case-2"))
        after = table_items(raw, dynamo_models)
        assert after == before
        assert keys(after) == {("CASE#case-1", "CASE"), ("CASE#case-1", "EVENT#0000000001"),
                               ("CASE#case-1", "VIEWER#alice"), ("CASES#MONTHS", "MONTHS"),
                               ("IDEMPOTENCY#5#alice#k", "IDEMPOTENCY")}

    def test_concurrent_idempotent_creates_store_one_case(self, repo, raw, dynamo_models):
        service = service_over(repo)
        results: list[str] = []
        errors: list[BaseException] = []

        def create() -> None:
            try:
                results.append(service.create(ALICE, case_body(), idempotency_key="retry-1").id)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        concurrently(*[create] * 4)
        assert errors == []
        assert len(set(results)) == 1
        case_items = [k for k in keys(table_items(raw, dynamo_models)) if k[1] == "CASE"]
        assert case_items == [(f"CASE#{results[0]}", "CASE")]


# -- resume keys -----------------------------------------------------------------------------------


@pytest.fixture
def five_cases(repo):
    for minute in range(5):
        create_case(repo, *new_case(f"c{minute}", minute=minute), None)


class TestResumeKeys:
    def test_issued_key_is_plain_json_and_resumes(self, repo, five_cases):
        _, key = repo.list_cases(EVERYTHING, 2, None)
        resumed, _ = repo.list_cases(EVERYTHING, 2, json.loads(json.dumps(key)))
        assert [c.id for c in resumed] == ["c2", "c1"]

    @pytest.mark.parametrize(
        "start_key",
        [
            {"PK": {"S": "x"}},
            {"PK": "x"},
            {"bogus": {"S": "x"}},
            {"PK": {"S": "CASE#c1"}, "SK": {"S": "CASE"}},
            {"PK": {"S": "CASE#c1"}, "SK": {"S": "CASE"}, "listPk": {"S": "CASE"}, "listSk": {"N": "1"}},
            {"PK": {"S": "CASE#c1"}, "SK": {"S": "CASE"}, "listPk": {"S": "CASE"}, "listSk": {"S": ""}},
            {"PK": {"S": "CASE#c1"}, "SK": {"S": "CASE"}, "listPk": {"S": "CASE"}, "listSk": {"S": "z"},
             "extra": {"S": "x"}},
            {"PK": {"S": "CASE#c1"}, "SK": {"S": "CASE"}, "listPk": {"S": "CASE"}, "listSk": {"S": "z" * 2000}},
            {"PK": {"S": "CASE#c1"}, "SK": {"S": "CASE"}, "listPk": None, "listSk": {"S": "z"}},
        ],
        ids=["pk-only", "untyped", "unknown-attribute", "table-key-only", "number-typed", "empty-value",
             "extra-attribute", "oversized-value", "null-value"],
    )
    def test_tampered_key_is_invalid(self, repo, five_cases, start_key):
        with pytest.raises(InvalidStartKey):
            repo.list_cases(EVERYTHING, 2, start_key)

    @pytest.mark.parametrize(
        "filters, start_key",
        [
            ({}, {"PK": {"S": "CASE#c3"}, "SK": {"S": "CASE"}, "listPk": {"S": "OTHER"},
                  "listSk": {"S": "2026-03-01T12:03:00.000Z#c3"}}),
            ({"assignee": "alice"}, {"PK": {"S": "CASE#c3"}, "SK": {"S": "CASE"}, "assignee": {"S": "bob"},
                                     "listSk": {"S": "2026-03-01T12:03:00.000Z#c3"}}),
        ],
        ids=["created-index", "assignee-index"],
    )
    def test_key_from_another_partition_is_invalid(self, repo, five_cases, filters, start_key):
        with pytest.raises(InvalidStartKey):
            repo.list_cases(CaseQuery(visibility=EVERYTHING.visibility, **filters), 2, start_key)

    def test_cursor_pagination_through_the_service(self, repo):
        clock = FixedClock()
        service = service_over(repo, clock)
        for _ in range(5):
            service.create(ALICE, case_body())
            clock.advance(seconds=1)
        seen, page_cursor = [], None
        for _ in range(10):
            page = service.list(ALICE, ListFilters(), 2, page_cursor)
            seen += [c.id for c in page.items]
            page_cursor = page.next_cursor
            if page_cursor is None:
                break
        assert seen == ["case-0005", "case-0004", "case-0003", "case-0002", "case-0001"]

    def test_forged_cursor_is_a_400(self, repo, five_cases):
        service = service_over(repo)
        admin = principal("root", "admin")
        issued = service.list(admin, ListFilters(), 2, None).next_cursor
        data = json.loads(base64.urlsafe_b64decode(issued + "=" * (-len(issued) % 4)))
        data["k"] = {"PK": "x"}
        forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
        with pytest.raises(InvalidInput) as error:
            service.list(admin, ListFilters(), 2, forged)
        assert fields_of(error.value) == ["cursor"]


# -- cases written before the case lists ---------------------------------------------------------------


def test_backfill_moves_cases_written_before_the_case_lists(repo, dynamo_models):
    m = dynamo_models
    legacy = [new_case(f"old-{n}", minute=n * 24 * 60 * 20, team="claims", created_by="bob", assignee="dave")
              for n in range(3)]  # 2026-03-01, -21 and 2026-04-10: two months
    for case, _ in legacy:
        item = case_item(m, case)
        item.list_pk, item.view_pk = dynamo_keys.CASE_LIST_PK, None  # as the table held it before
        item.save()
    assert repo.list_cases(EVERYTHING, 10, None) == ([], None)
    assert backfill_case_lists(m) == 3
    newest_first = ["old-2", "old-1", "old-0"]
    for scope in (EVERYTHING.visibility, Visibility(False, "claims", "frank"), Visibility(False, None, "dave")):
        assert [c.id for c in repo.list_cases(CaseQuery(visibility=scope), 10, None)[0]] == newest_first
    assert repo.get_case("old-1") == legacy[1][0]
    assert backfill_case_lists(m) == 0  # nothing is left in the old list


# -- an unreachable store ----------------------------------------------------------------------------


def _save(repo) -> None:
    updated, event = changed(new_case("case-1")[0], title="x")
    save_case(repo, updated, 1, 1, event)


def _comment(repo) -> None:
    comment, event = comment_on(new_case("case-1")[0], "cm-1")
    add_comment(repo, comment, 1, event)


@pytest.fixture
def unreachable(down_endpoint):
    return DynamoCaseRepository(table_models("cases-unreachable", REGION, down_endpoint))


class TestUnreachable:
    @pytest.mark.parametrize(
        "call",
        [
            pytest.param(lambda r: r.get_case("case-1"), id="get_case"),
            pytest.param(lambda r: r.list_cases(EVERYTHING, 10, None), id="list_cases"),
            pytest.param(lambda r: r.list_events("case-1"), id="list_events"),
            pytest.param(lambda r: r.comments_page("case-1", 25, None), id="comments_page"),
            pytest.param(lambda r: r.events_page("case-1", 25, None), id="events_page"),
            pytest.param(lambda r: r.get_cases(["case-1", "case-2"]), id="get_cases"),
            pytest.param(lambda r: r.get_idempotency("alice", "k"), id="get_idempotency"),
            pytest.param(lambda r: r.reserve_case_numbers("CASE_NUMBER#2026", 10), id="reserve_case_numbers"),
        ],
    )
    def test_reads_and_counter_become_dependency_unavailable(self, unreachable, call):
        with pytest.raises(DependencyUnavailable) as error:
            call(unreachable)
        assert error.value.retry_after_seconds > 0

    @pytest.mark.parametrize(
        "call",
        [
            pytest.param(lambda r: create_case(r, *new_case("case-1"), None), id="create_case"),
            pytest.param(_save, id="save_case"),
            pytest.param(_comment, id="add_comment"),
        ],
    )
    def test_writes_become_dependency_unavailable(self, unreachable, call):
        with pytest.raises(DependencyUnavailable):
            call(unreachable)

    def test_service_get_reports_the_store_unavailable(self, unreachable):
        with pytest.raises(DependencyUnavailable):
            service_over(unreachable).get(ALICE, "case-1")


# -- configuration -------------------------------------------------------------------------------------


def test_table_has_ttl_on_idempotency_records_and_a_stream(raw, dynamo_models):
    name = dynamo_models.case.Meta.table_name
    ttl = raw.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiresAt")
    table = raw.describe_table(TableName=name)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {
        "cases-by-created", "cases-by-assignee", "cases-by-customer", "cases-by-viewer", "inbox"
    }


def test_idempotency_expiry_is_stored_as_epoch_seconds(repo, raw, dynamo_models):
    create_case(repo, *new_case("case-1"), _record("case-1"))
    item = raw.get_item(TableName=dynamo_models.case.Meta.table_name,
                        Key={"PK": {"S": "IDEMPOTENCY#5#alice#k"}, "SK": {"S": "IDEMPOTENCY"}})["Item"]
    assert item["expiresAt"] == {"N": "1772452800"}


def test_transactions_use_the_same_timeouts_as_the_models(dynamo_models):
    config = dynamo_models.connection.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert config.retries["total_max_attempts"] == 3


def test_get_case_reads_consistently(repo, dynamo_models):
    seen: list[Any] = []
    create_case(repo, *new_case("case-1"), None)
    client = dynamo_models.case._get_connection().connection.client
    client.meta.events.register("before-parameter-build.dynamodb.GetItem", lambda params, **_: seen.append(params))
    repo.get_case("case-1")
    assert seen and seen[-1].get("ConsistentRead") is True


def test_moto_keeps_no_copies_of_the_table_after_transactions(repo):
    # local/moto_atomic.py: moto's instance tracking would keep every table copy TransactWriteItems makes.
    from moto.core.model_instances import model_data

    for n in range(20):
        case, event = new_case(f"case-{n}")
        create_case(repo, case, event, None)
    tracked = sum(len(model.instances_tracked) for model in model_data["dynamodb"].values())
    assert tracked == 0

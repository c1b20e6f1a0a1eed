"""CaseService over the in-memory repository, with a fixed clock and predictable ids."""
from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.domain.models import Case, CaseStatus, Priority
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from chalicelib.ports import StaleWrite
from chalicelib.services.cases import CaseNumbers, CaseService, ListFilters
from tests.support import (
    FixedClock, SequentialIds, add_comment, case_types, changed, comment_on, create_case, fields_of, new_case,
    principal, save_case,
)


def with_money(**compensation):
    return body(compensation=compensation)


def body(drop: tuple[str, ...] = (), **overrides):
    payload = {
        "title": "Boiler broken", "description": "No heating since Monday", "caseType": "GENERAL",
        "priority": "MEDIUM", "customerId": "CUST-1",
    }
    payload.update(overrides)
    for name in drop:
        payload.pop(name)
    return payload


def make_service(repo, clock=None, block_size=10):
    return CaseService(
        repo, case_types(), CaseNumbers(repo, block_size=block_size), clock=clock or FixedClock(),
        new_id=SequentialIds("case"),
    )


def store_change(repo: InMemoryCaseRepository, case_id: str, **changes) -> Case:
    """What the workflow would do (status, assignment): a versioned, audited save through the port."""
    current = repo.get_case(case_id)
    assert current is not None, f"{case_id} is stored"
    updated, event = changed(current, actor="workflow", **changes)
    save_case(repo, updated, current.version, current.audit_seq, event)
    return updated


# -- create ------------------------------------------------------------------------------------


class TestCreate:
    def test_new_case_has_number_status_version_and_owner(self, service, alice):
        case = service.create(alice, body())
        assert case.id == "case-0001"
        assert case.number == "CASE-2026-000001"
        assert case.status is CaseStatus.NEW
        assert case.version == 1
        assert case.created_at == case.updated_at == "2026-03-01T12:00:00.000Z"
        assert case.created_by == case.updated_by == "alice"
        assert case.assignee is None
        assert (case.title, case.description, case.priority, case.customer_id) == (
            "Boiler broken", "No heating since Monday", Priority.MEDIUM, "CUST-1"
        )

    def test_numbers_increase_per_case(self, service, alice):
        numbers = [service.create(alice, body()).number for _ in range(3)]
        assert numbers == ["CASE-2026-000001", "CASE-2026-000002", "CASE-2026-000003"]

    def test_number_year_follows_the_clock_and_restarts_per_year(self, repo, alice):
        clock = FixedClock(datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc))
        service = make_service(repo, clock)
        assert service.create(alice, body()).number == "CASE-2026-000001"
        clock.advance(minutes=2)
        assert service.create(alice, body()).number == "CASE-2027-000001"

    @pytest.mark.parametrize(
        "case_type, priority, due",
        [
            ("GENERAL", "LOW", "2026-03-11T12:00:00.000Z"),
            ("GENERAL", "MEDIUM", "2026-03-06T12:00:00.000Z"),
            ("GENERAL", "HIGH", "2026-03-03T12:00:00.000Z"),
            ("GENERAL", "CRITICAL", "2026-03-01T20:00:00.000Z"),
            ("CLAIM", "HIGH", "2026-03-04T12:00:00.000Z"),
            ("CLAIM", "CRITICAL", "2026-03-02T12:00:00.000Z"),
        ],
    )
    def test_due_date_comes_from_the_case_type_sla_for_the_priority(self, service, alice, case_type, priority, due):
        assert service.create(alice, body(caseType=case_type, priority=priority)).due_at == due

    def test_team_comes_from_the_case_type(self, service, alice):
        assert service.create(alice, body(caseType="CLAIM")).team == "claims"
        assert service.create(alice, body(caseType="COMPLAINT")).team == "complaints"

    def test_team_falls_back_to_the_creators_team(self, service, alice, admin):
        assert service.create(alice, body(caseType="GENERAL")).team == "general"
        assert service.create(admin, body(caseType="GENERAL")).team is None

    def test_required_documents_default_from_the_case_type(self, service, alice):
        assert service.create(alice, body(caseType="CLAIM")).required_documents == ["claim-form", "proof-of-loss"]
        assert service.create(alice, body(caseType="GENERAL")).required_documents == []

    @pytest.mark.parametrize("documents", [
        ["claim-form", "proof-of-loss", "police-report"], ["police-report", "proof-of-loss", "claim-form"],
    ])
    def test_explicit_required_documents_may_add_to_the_case_types(self, service, alice, documents):
        case = service.create(alice, body(caseType="CLAIM", requiredDocuments=documents))
        assert case.required_documents == documents
        assert service.create(alice, body(caseType="GENERAL", requiredDocuments=[])).required_documents == []

    @pytest.mark.parametrize("documents", [[], ["police-report"], ["claim-form"]])
    def test_required_documents_may_not_drop_the_case_types(self, service, alice, documents):
        # Issue 12 item 3: `[]` used to skip the evidence stage of a claim.
        with pytest.raises(InvalidInput) as refused:
            service.create(alice, body(caseType="CLAIM", requiredDocuments=documents))
        assert [d.field for d in refused.value.details] == ["requiredDocuments"]
        assert "proof-of-loss" in refused.value.details[0].issue

    def test_caps_are_per_currency(self, service, alice):
        # Issue 12 item 8: 5400.00 is over the complaint cap in EUR (5000.00) and in GBP, not in USD (5500.00).
        usd = service.create(alice, body(caseType="COMPLAINT", compensation={"amount": "5400.00", "currency": "USD"}))
        assert (usd.compensation.amount, usd.compensation.currency) == ("5400.00", "USD")
        with pytest.raises(InvalidInput) as refused:
            service.create(alice, body(caseType="COMPLAINT", compensation={"amount": "5400.00", "currency": "EUR"}))
        assert refused.value.details[0].issue == "must not exceed 5000.00 EUR"

    def test_compensation_and_tags_are_kept(self, service, alice):
        case = service.create(
            alice, body(caseType="CLAIM", compensation={"amount": "1250.00", "currency": "EUR"}, tags=["water", "vip"])
        )
        assert case.compensation.amount == "1250.00" and case.compensation.currency == "EUR"
        assert case.tags == ["water", "vip"]

    def test_compensation_at_the_cap_is_allowed(self, service, alice):
        case = service.create(alice, body(caseType="COMPLAINT", compensation={"amount": "5000.00", "currency": "EUR"}))
        assert case.compensation.amount == "5000.00"

    def test_no_cap_means_any_amount(self, service, alice):
        case = service.create(
            alice, body(caseType="GENERAL", compensation={"amount": "999999999.99", "currency": "USD"}),
        )
        assert case.compensation.amount == "999999999.99"

    def test_case_is_stored_and_readable(self, service, repo, alice):
        case = service.create(alice, body())
        assert repo.get_case(case.id) == case
        assert service.get(alice, case.id) == case

    def test_api_shape_is_camel_case_without_audit_internals(self, service, alice):
        api = service.create(alice, body()).to_api()
        assert {"id", "number", "status", "version", "createdAt", "createdBy", "assignee", "dueAt", "caseType",
                "customerId", "requiredDocuments"} <= set(api)
        assert not {"auditSeq", "auditHash", "audit_seq", "audit_hash"} & set(api)

    def test_records_a_case_created_event(self, service, repo, alice):
        case = service.create(alice, body())
        [event] = repo.list_events(case.id)
        assert (event.seq, event.type, event.actor, event.at) == (1, "CASE_CREATED", "alice", case.created_at)
        # The customer snapshot (personal data) stays on the case, out of the permanent audit trail.
        assert event.data == {"case": {k: v for k, v in case.to_api().items() if k != "customerSnapshot"}}
        assert (case.audit_seq, case.audit_hash) == (1, event.hash)
        assert service.verify_history(alice, case.id).model_dump() == {
            "valid": True, "events": 1, "first_invalid_seq": None,
        }

    def test_title_whitespace_is_trimmed(self, service, alice):
        assert service.create(alice, body(title="  Boiler broken  ")).title == "Boiler broken"

    @pytest.mark.parametrize("user", [principal("aud", "auditor"), principal("ann", "approver"),
                                      principal("fin", "finance"), principal("zed", "visitor")])
    def test_roles_that_may_not_create(self, service, repo, user):
        with pytest.raises(Forbidden):
            service.create(user, body())
        assert repo.cases == {}


    def test_a_create_whose_retried_write_finds_its_own_item_answers_the_case(self, repo, alice):
        # botocore retries a write whose answer a timeout lost; the retry's condition fails on its own item.
        class RetriedAfterTimeout(InMemoryCaseRepository):
            def apply(self, change):
                super().apply(change)
                if change.new:
                    raise StaleWrite("the case already exists")

        retried = RetriedAfterTimeout()
        created = make_service(retried).create(alice, body())
        assert retried.get_case(created.id) == created and len(retried.cases) == 1

    def test_a_create_that_finds_another_case_under_its_id_is_not_hidden(self, alice):
        class Taken(InMemoryCaseRepository):
            def apply(self, change):
                if change.new:
                    raise StaleWrite("the case already exists")
                super().apply(change)

        with pytest.raises(StaleWrite):
            make_service(Taken()).create(alice, body())


class TestCreateValidation:
    @pytest.mark.parametrize(
        "payload, field",
        [
            pytest.param(body(drop=("title",)), "title", id="missing-title"),
            pytest.param(body(drop=("caseType",)), "caseType", id="missing-caseType"),
            pytest.param(body(drop=("customerId",)), "customerId", id="missing-customerId"),
            pytest.param(body(colour="red"), "colour", id="unknown-field"),
            pytest.param(body(status="OPEN"), "status", id="status-not-settable"),
            pytest.param(body(assignee="bob"), "assignee", id="assignee-not-settable"),
            pytest.param(body(priority=5), "priority", id="priority-wrong-type"),
            pytest.param(body(priority="URGENT"), "priority", id="priority-invalid-enum"),
            pytest.param(body(priority="high"), "priority", id="priority-wrong-case"),
            pytest.param(body(title="x" * 201), "title", id="title-201"),
            pytest.param(body(title="   "), "title", id="title-blank"),
            pytest.param(body(title=123), "title", id="title-number"),
            pytest.param(body(description="d" * 10_001), "description", id="description-too-long"),
            pytest.param(body(tags=[f"t{i}" for i in range(21)]), "tags", id="tags-21"),
            pytest.param(body(tags="vip"), "tags", id="tags-not-list"),
            pytest.param(body(tags=["ok", "<script>"]), "tags[1]", id="tag-bad-chars"),
            pytest.param(body(requiredDocuments=[f"d{i}" for i in range(21)]), "requiredDocuments", id="docs-21"),
            pytest.param(body(customerId="cust 1"), "customerId", id="customerId-pattern"),
            pytest.param(body(customerId="C-1001"), "customerId", id="customerId-not-the-contracts"),
            pytest.param(body(caseType="NOPE"), "caseType", id="unknown-caseType"),
            pytest.param(body(caseType="bad type!"), "caseType", id="caseType-pattern"),
            pytest.param(with_money(amount="12.345", currency="EUR"), "compensation.amount", id="amount-3dp"),
            pytest.param(with_money(amount="-1", currency="EUR"), "compensation.amount", id="amount-negative"),
            pytest.param(with_money(amount="abc", currency="EUR"), "compensation.amount", id="amount-text"),
            pytest.param(with_money(amount="0", currency="EUR"), "compensation.amount", id="amount-zero"),
            pytest.param(with_money(amount="1e3", currency="EUR"), "compensation.amount", id="amount-exp"),
            pytest.param(with_money(amount=12.5, currency="EUR"), "compensation.amount", id="amount-number"),
            pytest.param(with_money(amount="10.00", currency="eur"), "compensation.currency", id="currency-lower"),
            pytest.param(with_money(amount="10.00", currency="EURO"), "compensation.currency", id="currency-4"),
            pytest.param(body(compensation={"amount": "10.00"}), "compensation.currency", id="currency-missing"),
            pytest.param(with_money(amount="10.00", currency="EUR", fx=1), "compensation.fx", id="money-extra"),
            pytest.param(body(compensation="10 EUR"), "compensation", id="compensation-not-object"),
            pytest.param(
                body(caseType="COMPLAINT", compensation={"amount": "5000.01", "currency": "EUR"}),
                "compensation.amount", id="over-cap",
            ),
            pytest.param(
                body(caseType="COMPLAINT", compensation={"amount": "4300.01", "currency": "GBP"}),
                "compensation.amount", id="over-cap-gbp",
            ),
            pytest.param(body(compensation={"amount": "10.00", "currency": "JPY"}), "compensation.currency",
                         id="currency-unsupported"),
        ],
    )
    def test_rejected_with_the_field_named(self, service, repo, alice, payload, field):
        with pytest.raises(InvalidInput) as error:
            service.create(alice, payload)
        assert field in fields_of(error.value)
        assert repo.cases == {}

    def test_snake_case_keys_are_not_accepted(self, service, alice):
        payload = body(drop=("caseType",), case_type="GENERAL")
        with pytest.raises(InvalidInput) as error:
            service.create(alice, payload)
        issues = {d.field: d.issue for d in error.value.details}
        assert issues["case_type"] == "unknown field"
        assert "caseType" in issues

    def test_unknown_field_issue_says_so(self, service, alice):
        with pytest.raises(InvalidInput) as error:
            service.create(alice, body(colour="red"))
        assert [(d.field, d.issue) for d in error.value.details] == [("colour", "unknown field")]

    def test_every_problem_is_reported(self, service, alice):
        with pytest.raises(InvalidInput) as error:
            service.create(alice, {"title": "", "priority": "NOPE", "extra": True})
        assert {"title", "priority", "extra", "caseType", "customerId"} <= set(fields_of(error.value))

    @pytest.mark.parametrize("payload", [[], [body()], "title=x", None, 42, True])
    def test_body_must_be_an_object(self, service, alice, payload):
        with pytest.raises(InvalidInput) as error:
            service.create(alice, payload)
        assert fields_of(error.value) == ["body"]

    def test_rejected_requests_consume_no_case_number(self, service, alice):
        with pytest.raises(InvalidInput):
            service.create(alice, body(priority="URGENT"))
        with pytest.raises(InvalidInput):
            service.create(alice, body(caseType="COMPLAINT", compensation={"amount": "9999.00", "currency": "EUR"}))
        assert service.create(alice, body()).number == "CASE-2026-000001"


class TestIdempotency:
    def test_same_key_and_body_returns_the_same_case_once(self, service, repo, alice):
        first = service.create(alice, body(), idempotency_key="key-1")
        second = service.create(alice, body(), idempotency_key="key-1")
        assert second == first
        assert list(repo.cases) == [first.id]
        assert len(repo.list_events(first.id)) == 1

    def test_replay_after_the_case_changed_returns_the_stored_case(self, service, alice):
        first = service.create(alice, body(), idempotency_key="key-1")
        updated = service.update(alice, first.id, {"title": "Boiler fixed?"}, "1")
        assert service.create(alice, body(), idempotency_key="key-1") == updated

    def test_same_key_with_another_body_is_a_conflict(self, service, repo, alice):
        service.create(alice, body(), idempotency_key="key-1")
        with pytest.raises(Conflict) as error:
            service.create(alice, body(title="Something else"), idempotency_key="key-1")
        assert fields_of(error.value) == ["Idempotency-Key"]
        assert len(repo.cases) == 1

    def test_keys_are_per_user(self, service, repo, alice):
        other = principal("erin", "caseworker", team="general")
        a = service.create(alice, body(), idempotency_key="key-1")
        b = service.create(other, body(), idempotency_key="key-1")
        assert a.id != b.id
        assert b.created_by == "erin"
        assert len(repo.cases) == 2

    def test_different_keys_create_different_cases(self, service, repo, alice):
        service.create(alice, body(), idempotency_key="key-1")
        service.create(alice, body(), idempotency_key="key-2")
        assert len(repo.cases) == 2

    def test_without_a_key_every_request_creates(self, service, repo, alice):
        service.create(alice, body())
        service.create(alice, body())
        assert len(repo.cases) == 2

    def test_record_expires_a_day_later(self, service, repo, alice):
        case = service.create(alice, body(), idempotency_key="key-1")
        record = repo.get_idempotency("alice", "key-1")
        assert record.case_id == case.id
        assert record.expires_at == int(datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc).timestamp())

    def test_expired_key_can_be_used_again(self, service, repo, clock, alice):
        # The store deletes expired records lazily (DynamoDB TTL may take days); expiry alone must free the key.
        first = service.create(alice, body(), idempotency_key="key-1")
        clock.advance(hours=25)
        again = service.create(alice, body(title="A new request"), idempotency_key="key-1")
        assert again.id != first.id
        assert repo.get_idempotency("alice", "key-1").case_id == again.id

    def test_key_still_holds_just_before_expiry(self, service, clock, alice):
        first = service.create(alice, body(), idempotency_key="key-1")
        clock.advance(hours=23, minutes=59)
        assert service.create(alice, body(), idempotency_key="key-1") == first

    @pytest.mark.parametrize("key", ["", "k" * 129, "line\nbreak", "tab\there"])
    def test_malformed_key_is_rejected(self, service, repo, alice, key):
        with pytest.raises(InvalidInput) as error:
            service.create(alice, body(), idempotency_key=key)
        assert fields_of(error.value) == ["Idempotency-Key"]
        assert repo.cases == {}

    @pytest.mark.parametrize("key", ["k", "k" * 128, "6f1c2a9e-0b7d-4c55-9f0e-2d7f5c1e8a33", "order 42/retry #1"])
    def test_well_formed_keys_are_accepted(self, service, alice, key):
        first = service.create(alice, body(), idempotency_key=key)
        assert service.create(alice, body(), idempotency_key=key) == first


# -- read ----------------------------------------------------------------------------------------


class TestGet:
    def test_invisible_case_is_not_found_like_a_missing_one(self, service, alice, bob):
        case = service.create(alice, body())
        with pytest.raises(NotFound) as hidden:
            service.get(bob, case.id)
        with pytest.raises(NotFound) as missing:
            service.get(bob, "case-9999")
        assert str(hidden.value).replace(case.id, "ID") == str(missing.value).replace("case-9999", "ID")

    def test_team_and_participants_can_read(self, service, repo, alice, bob):
        case = service.create(alice, body())
        supervisor = principal("sam", "supervisor", team="general")
        assert service.get(supervisor, case.id) == case
        store_change(repo, case.id, participants=["bob"])
        assert service.get(bob, case.id).participants == ["bob"]

    def test_unknown_group_is_forbidden_on_read(self, service, alice):
        case = service.create(alice, body())
        with pytest.raises(Forbidden):
            service.get(principal("zed", "visitor"), case.id)


@pytest.fixture
def catalogue(service, repo, clock, alice):
    """Six cases created a minute apart by alice; ids case-0001..case-0006."""
    specs = [
        dict(caseType="GENERAL", priority="LOW", customerId="CUST-1"),
        dict(caseType="GENERAL", priority="HIGH", customerId="CUST-2"),
        dict(caseType="COMPLAINT", priority="HIGH", customerId="CUST-1"),
        dict(caseType="CLAIM", priority="CRITICAL", customerId="CUST-3"),
        dict(caseType="GENERAL", priority="MEDIUM", customerId="CUST-2"),
        dict(caseType="GENERAL", priority="HIGH", customerId="CUST-1"),
    ]
    cases = []
    for spec in specs:
        cases.append(service.create(alice, body(**spec)))
        clock.advance(minutes=1)
    store_change(repo, "case-0005", status="OPEN", assignee="alice")
    store_change(repo, "case-0006", assignee="carol")
    return cases


def ids(page) -> list[str]:
    return [case.id for case in page.items]


class TestList:
    @pytest.mark.parametrize(
        "filters, expected",
        [
            (ListFilters(), ["case-0006", "case-0005", "case-0004", "case-0003", "case-0002", "case-0001"]),
            (ListFilters(status="NEW"), ["case-0006", "case-0004", "case-0003", "case-0002", "case-0001"]),
            (ListFilters(status="OPEN"), ["case-0005"]),
            (ListFilters(status="CLOSED"), []),
            (ListFilters(priority="HIGH"), ["case-0006", "case-0003", "case-0002"]),
            (ListFilters(case_type="COMPLAINT"), ["case-0003"]),
            (ListFilters(customer_id="CUST-1"), ["case-0006", "case-0003", "case-0001"]),
            (ListFilters(assignee="me"), ["case-0005"]),
            (ListFilters(assignee="carol"), ["case-0006"]),
            (ListFilters(priority="HIGH", customer_id="CUST-1"), ["case-0006", "case-0003"]),
            (ListFilters(case_type="GENERAL", status="NEW", priority="LOW"), ["case-0001"]),
        ],
    )
    def test_filters_newest_first(self, service, catalogue, alice, filters, expected):
        assert ids(service.list(alice, filters, 100, None)) == expected

    @pytest.mark.parametrize("customer_id", ["C-1001", "cust-1", "CUST-1 "])
    def test_a_customer_id_filter_of_another_form_is_a_400_naming_it(self, service, alice, customer_id):
        with pytest.raises(InvalidInput) as raised:
            service.list(alice, ListFilters(customer_id=customer_id), 100, None)
        assert [d.field for d in raised.value.details] == ["customerId"]

    def test_assignee_me_is_the_caller(self, service, catalogue):
        carol = principal("carol", "caseworker", team="general")
        assert ids(service.list(carol, ListFilters(assignee="me"), 100, None)) == ["case-0006"]

    @pytest.mark.parametrize(
        "user, expected",
        [
            (principal("root", "admin"), {"case-0001", "case-0002", "case-0003", "case-0004", "case-0005"}),
            (principal("aud", "auditor"), {"case-0001", "case-0002", "case-0003", "case-0004", "case-0005"}),
            (principal("alice", "caseworker", team="general"), {"case-0001", "case-0003"}),
            (principal("sam", "supervisor", team="general"), {"case-0001"}),
            (principal("bob", "caseworker", team="claims"), {"case-0002", "case-0004"}),
            (principal("ann", "approver"), {"case-0004"}),
            (principal("fin", "finance", team="claims"), set()),
        ],
    )
    def test_visibility(self, service, repo, clock, user, expected):
        alice, bob, root = (principal("alice", "caseworker", team="general"),
                            principal("bob", "caseworker", team="claims"), principal("root", "admin"))
        for creator, case_type in [(alice, "GENERAL"), (bob, "CLAIM"), (alice, "COMPLAINT"), (bob, "CLAIM"),
                                   (root, "GENERAL")]:
            service.create(creator, body(caseType=case_type))
            clock.advance(minutes=1)
        store_change(repo, "case-0004", participants=["ann"])
        assert set(ids(service.list(user, ListFilters(), 100, None))) == expected

    def test_unknown_group_may_not_list(self, service):
        with pytest.raises(Forbidden):
            service.list(principal("zed", "visitor"), ListFilters(), 10, None)

    def test_pagination_visits_every_case_once_newest_first(self, service, clock, alice):
        for _ in range(5):
            service.create(alice, body())
            clock.advance(seconds=1)
        seen, pages, page_cursor = [], [], None
        while True:
            page = service.list(alice, ListFilters(), 2, page_cursor)
            pages.append(len(page.items))
            seen.extend(page.items)
            page_cursor = page.next_cursor
            if page_cursor is None:
                break
        assert pages == [2, 2, 1]
        assert [c.id for c in seen] == ["case-0005", "case-0004", "case-0003", "case-0002", "case-0001"]
        assert [c.created_at for c in seen] == sorted((c.created_at for c in seen), reverse=True)

    def test_pagination_with_a_filter(self, service, catalogue, alice):
        first = service.list(alice, ListFilters(priority="HIGH"), 2, None)
        second = service.list(alice, ListFilters(priority="HIGH"), 2, first.next_cursor)
        assert ids(first) + ids(second) == ["case-0006", "case-0003", "case-0002"]
        assert second.next_cursor is None

    def test_cases_created_in_the_same_instant_are_all_paged(self, service, alice):
        for _ in range(5):
            service.create(alice, body())  # the clock does not move
        seen, page_cursor = [], None
        for _ in range(5):
            page = service.list(alice, ListFilters(), 2, page_cursor)
            seen += ids(page)
            page_cursor = page.next_cursor
            if page_cursor is None:
                break
        assert sorted(seen) == [f"case-000{i}" for i in range(1, 6)]

    def test_cursor_is_opaque_text(self, service, catalogue, alice):
        page = service.list(alice, ListFilters(), 2, None)
        assert isinstance(page.next_cursor, str)
        assert "case-" not in page.next_cursor
        assert page.to_api()["nextCursor"] == page.next_cursor

    @pytest.mark.parametrize("limit", [0, -1, 101, 1000])
    def test_limit_out_of_range(self, service, alice, limit):
        with pytest.raises(InvalidInput) as error:
            service.list(alice, ListFilters(), limit, None)
        assert fields_of(error.value) == ["limit"]

    @pytest.mark.parametrize("limit", [1, 100])
    def test_limit_bounds_are_accepted(self, service, catalogue, alice, limit):
        assert len(service.list(alice, ListFilters(), limit, None).items) == min(limit, 6)

    @pytest.mark.parametrize(
        "bad_cursor",
        [
            "x",
            "",
            "!!!not-base64!!!",
            base64.urlsafe_b64encode(b"\xff\xfe\x00junk").decode(),
            base64.urlsafe_b64encode(b"not json").decode(),
            base64.urlsafe_b64encode(b"[1, 2, 3]").decode(),
            base64.urlsafe_b64encode(b'{"k": "after", "f": "0000"}').decode(),
            "A" * 3000,
        ],
    )
    def test_garbage_cursor(self, service, catalogue, alice, bad_cursor):
        with pytest.raises(InvalidInput) as error:
            service.list(alice, ListFilters(), 2, bad_cursor)
        assert fields_of(error.value) == ["cursor"]

    def test_cursor_for_other_filters_is_rejected(self, service, catalogue, alice):
        issued = service.list(alice, ListFilters(status="NEW"), 2, None).next_cursor
        with pytest.raises(InvalidInput) as error:
            service.list(alice, ListFilters(priority="HIGH"), 2, issued)
        assert fields_of(error.value) == ["cursor"]

    def test_cursor_of_another_user_is_rejected(self, service, catalogue, alice):
        issued = service.list(alice, ListFilters(), 2, None).next_cursor
        with pytest.raises(InvalidInput) as error:
            service.list(principal("root", "admin"), ListFilters(), 2, issued)
        assert fields_of(error.value) == ["cursor"]

    def test_cursor_with_a_forged_resume_key_is_rejected(self, service, catalogue, alice):
        issued = service.list(alice, ListFilters(), 2, None).next_cursor
        raw = json.loads(base64.urlsafe_b64decode(issued + "=" * (-len(issued) % 4)))
        raw["k"] = {"after": 12345}
        forged = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")
        with pytest.raises(InvalidInput) as error:
            service.list(alice, ListFilters(), 2, forged)
        assert fields_of(error.value) == ["cursor"]

    @pytest.mark.parametrize(
        "filters, field",
        [(ListFilters(customer_id=""), "customerId"), (ListFilters(assignee=" "), "assignee"),
         (ListFilters(case_type=""), "caseType"), (ListFilters(status=""), "status"),
         # values outside the enums
         (ListFilters(status="new"), "status"), (ListFilters(status="DELETED"), "status"),
         (ListFilters(priority="URGENT"), "priority"), (ListFilters(priority="5"), "priority")],
    )
    def test_empty_or_invalid_enum_filters_are_rejected(self, service, alice, filters, field):
        with pytest.raises(InvalidInput) as error:
            service.list(alice, filters, 10, None)
        assert fields_of(error.value) == [field]


# -- update ------------------------------------------------------------------------------------


class TestUpdate:
    @pytest.fixture
    def case(self, service, clock, alice):
        created = service.create(alice, body(tags=["water"]))
        clock.advance(minutes=5)
        return created

    def test_update_bumps_the_version_and_records_the_changes(self, service, repo, case, alice):
        erin = principal("erin", "caseworker", team="general")
        patch = {"title": "Boiler leaking", "priority": "HIGH", "tags": ["water", "urgent"]}
        updated = service.update(erin, case.id, patch, "1")
        assert (updated.version, updated.title, updated.priority, updated.tags) == (
            2, "Boiler leaking", Priority.HIGH, ["water", "urgent"]
        )
        assert (updated.updated_at, updated.updated_by) == ("2026-03-01T12:05:00.000Z", "erin")
        assert (updated.created_at, updated.created_by, updated.number) == (case.created_at, "alice", case.number)
        assert repo.get_case(case.id) == updated
        event = repo.list_events(case.id)[-1]
        assert (event.seq, event.type, event.actor, event.at) == (2, "CASE_UPDATED", "erin", updated.updated_at)
        assert event.data == {
            "version": 2,
            "changes": {
                "title": {"from": "Boiler broken", "to": "Boiler leaking"},
                "priority": {"from": "MEDIUM", "to": "HIGH"},
                "tags": {"from": ["water"], "to": ["water", "urgent"]},
                # the SLA depends on priority, so the due date moves with it (GENERAL: 120 h -> 48 h)
                "dueAt": {"from": "2026-03-06T12:00:00.000Z", "to": "2026-03-03T12:00:00.000Z"},
            },
        }
        assert updated.due_at == "2026-03-03T12:00:00.000Z"
        assert (updated.audit_seq, updated.audit_hash) == (2, event.hash)

    def test_only_changed_fields_are_recorded(self, service, repo, case, alice):
        service.update(alice, case.id, {"title": "Boiler broken", "description": "Now leaking too"}, "1")
        assert list(repo.list_events(case.id)[-1].data["changes"]) == ["description"]

    def test_patch_without_a_real_change_keeps_the_version(self, service, repo, case, alice):
        same = service.update(alice, case.id, {"title": "Boiler broken"}, "1")
        assert same.version == 1
        assert len(repo.list_events(case.id)) == 1

    @pytest.mark.parametrize("if_match", ["1", '"1"', 'W/"1"', ' "1" '])
    def test_if_match_forms(self, service, case, alice, if_match):
        assert service.update(alice, case.id, {"title": "New"}, if_match).version == 2

    @pytest.mark.parametrize("if_match", [None, "", "abc", '"x"', "1.0", "-1", "*", "v1"])
    def test_missing_or_garbage_if_match(self, service, repo, case, alice, if_match):
        with pytest.raises(InvalidInput) as error:
            service.update(alice, case.id, {"title": "New"}, if_match)
        assert fields_of(error.value) == ["If-Match"]
        assert repo.get_case(case.id) == case

    def test_stale_version_is_refused_and_nothing_changes(self, service, repo, case, alice):
        current = service.update(alice, case.id, {"title": "Second"}, "1")
        events_before = repo.list_events(case.id)
        with pytest.raises(PreconditionFailed):
            service.update(alice, case.id, {"title": "Lost update"}, "1")
        assert repo.get_case(case.id) == current
        assert repo.list_events(case.id) == events_before

    def test_future_version_is_refused(self, service, case, alice):
        with pytest.raises(PreconditionFailed):
            service.update(alice, case.id, {"title": "New"}, "7")

    def test_sequential_updates_with_fresh_etags(self, service, case, alice):
        v2 = service.update(alice, case.id, {"title": "Two"}, "1")
        v3 = service.update(alice, case.id, {"title": "Three"}, str(v2.version))
        assert (v3.version, v3.title) == (3, "Three")

    @pytest.mark.parametrize(
        "patch, field",
        [
            ({"status": "CLOSED"}, "status"),
            ({"assignee": "bob"}, "assignee"),
            ({"title": "ok", "version": 9}, "version"),
            ({"caseType": "CLAIM"}, "caseType"),
            ({"priority": "URGENT"}, "priority"),
            ({"title": "x" * 201}, "title"),
            ({"title": ""}, "title"),
            ({"tags": ["a"] * 21}, "tags"),
        ],
    )
    def test_invalid_patch(self, service, repo, case, alice, patch, field):
        with pytest.raises(InvalidInput) as error:
            service.update(alice, case.id, patch, "1")
        assert field in fields_of(error.value)
        assert repo.get_case(case.id) == case

    def test_status_in_patch_is_an_unknown_field(self, service, case, alice):
        with pytest.raises(InvalidInput) as error:
            service.update(alice, case.id, {"status": "CLOSED"}, "1")
        assert [(d.field, d.issue) for d in error.value.details] == [("status", "unknown field")]

    @pytest.mark.parametrize("patch", [{}, {"title": None}, {"tags": None}, {"priority": None}, [], "title", None])
    def test_empty_null_or_non_object_patch(self, service, repo, case, alice, patch):
        with pytest.raises(InvalidInput):
            service.update(alice, case.id, patch, "1")
        assert repo.get_case(case.id) == case

    def test_null_title_names_the_title_field(self, service, case, alice):
        with pytest.raises(InvalidInput) as error:
            service.update(alice, case.id, {"title": None}, "1")
        assert fields_of(error.value) == ["title"]

    def test_invisible_case_is_not_found(self, service, case, bob):
        with pytest.raises(NotFound):
            service.update(bob, case.id, {"title": "Mine now"}, "1")

    def test_missing_case_is_not_found(self, service, alice):
        with pytest.raises(NotFound):
            service.update(alice, "case-9999", {"title": "x"}, "1")

    @pytest.mark.parametrize("user", [principal("aud", "auditor"), principal("ann", "approver"),
                                      principal("fin", "finance")])
    def test_roles_that_may_not_update(self, service, repo, case, user):
        with pytest.raises(Forbidden):
            service.update(user, case.id, {"title": "x"}, "1")
        assert repo.get_case(case.id) == case

    def test_a_comment_does_not_invalidate_the_etag(self, service, case, alice):
        service.add_comment(alice, case.id, {"text": "Called the customer"})
        updated = service.update(alice, case.id, {"title": "After comment"}, "1")
        assert updated.version == 2
        assert service.verify_history(alice, case.id).valid


class CommentLandsDuringUpdate(InMemoryCaseRepository):
    """Another request comments between the service's read and its write (only the audit head moves)."""

    def __init__(self, times: int = 1) -> None:
        super().__init__()
        self.races_left = times

    def apply(self, change):
        if change.moved and self.races_left:
            self.races_left -= 1
            current = self.cases[change.case_id]
            comment, comment_event = comment_on(current, f"race-{self.races_left}", author="bob")
            add_comment(self, comment, current.audit_seq, comment_event)
        super().apply(change)


class UpdateLandsDuringUpdate(InMemoryCaseRepository):
    """Another request saves a new version between the service's read and its write."""

    raced = False

    def apply(self, change):
        if change.moved and not self.raced:
            self.raced = True
            current = self.cases[change.case_id]
            theirs, their_event = changed(current, actor="bob", title="Bob's title")
            save_case(self, theirs, current.version, current.audit_seq, their_event)
        super().apply(change)


class TestConcurrentWrites:
    def test_update_retries_when_only_the_audit_head_moved(self, alice):
        repo = CommentLandsDuringUpdate()
        service = make_service(repo)
        case = service.create(alice, body())
        updated = service.update(alice, case.id, {"title": "Mine"}, "1")
        assert (updated.version, updated.title) == (2, "Mine")
        assert [e.type for e in repo.list_events(case.id)] == ["CASE_CREATED", "COMMENT_ADDED", "CASE_UPDATED"]
        assert service.verify_history(alice, case.id).valid

    def test_update_never_loses_a_concurrent_version(self, alice):
        repo = UpdateLandsDuringUpdate()
        service = make_service(repo)
        case = service.create(alice, body())
        with pytest.raises(PreconditionFailed):
            service.update(alice, case.id, {"title": "Mine"}, "1")
        stored = repo.get_case(case.id)
        assert (stored.version, stored.title) == (2, "Bob's title")
        assert service.verify_history(alice, case.id).valid

    def test_update_gives_up_with_a_conflict_when_the_case_never_settles(self, alice):
        repo = CommentLandsDuringUpdate(times=100)
        service = make_service(repo)
        case = service.create(alice, body())
        with pytest.raises(Conflict):
            service.update(alice, case.id, {"title": "Mine"}, "1")
        assert repo.get_case(case.id).version == 1
        assert service.verify_history(alice, case.id).valid


# -- comments ----------------------------------------------------------------------------------


class TestComments:
    @pytest.fixture
    def case(self, service, clock, alice):
        created = service.create(alice, body())
        clock.advance(minutes=1)
        return created

    def test_add_and_list(self, service, repo, clock, case, alice):
        first = service.add_comment(alice, case.id, {"text": "  Called the customer  "})
        clock.advance(minutes=1)
        second = service.add_comment(principal("sam", "supervisor", team="general"), case.id, {"text": "Escalate"})
        assert (first.id, first.case_id, first.text, first.author, first.created_at) == (
            "case-0002", case.id, "Called the customer", "alice", "2026-03-01T12:01:00.000Z"
        )
        assert service.comments(alice, case.id).items == [first, second]
        assert set(first.to_api()) == {"id", "caseId", "text", "author", "createdAt"}

    def test_comment_is_audited_and_moves_only_the_audit_head(self, service, repo, case, alice):
        comment = service.add_comment(alice, case.id, {"text": "Called the customer"})
        event = repo.list_events(case.id)[-1]
        assert (event.seq, event.type, event.actor, event.at) == (2, "COMMENT_ADDED", "alice", comment.created_at)
        assert event.data == {"commentId": comment.id, "text": "Called the customer"}
        stored = repo.get_case(case.id)
        assert (stored.version, stored.audit_seq, stored.audit_hash) == (1, 2, event.hash)

    def test_approver_taking_part_may_comment(self, service, repo, case, approver):
        store_change(repo, case.id, participants=["ann"])
        assert service.add_comment(approver, case.id, {"text": "Looks fine"}).author == "ann"

    def test_approver_not_taking_part_sees_no_case(self, service, case, approver):
        with pytest.raises(NotFound):
            service.add_comment(approver, case.id, {"text": "Looks fine"})

    def test_auditor_may_read_but_not_comment(self, service, repo, case, auditor):
        with pytest.raises(Forbidden):
            service.add_comment(auditor, case.id, {"text": "Noted"})
        assert service.comments(auditor, case.id).items == []
        assert len(repo.list_events(case.id)) == 1

    def test_comments_of_an_invisible_case_are_not_found(self, service, case, bob):
        with pytest.raises(NotFound):
            service.comments(bob, case.id)

    @pytest.mark.parametrize(
        "payload, field",
        [({}, "text"), ({"text": ""}, "text"), ({"text": "   "}, "text"), ({"text": "x" * 5001}, "text"),
         ({"text": 5}, "text"), ({"text": "ok", "author": "bob"}, "author"), (["ok"], "body"), (None, "body")],
    )
    def test_invalid_comment(self, service, repo, case, alice, payload, field):
        with pytest.raises(InvalidInput) as error:
            service.add_comment(alice, case.id, payload)
        assert field in fields_of(error.value)
        assert repo.comments_page(case.id, 100, None)[0] == []


# -- history -----------------------------------------------------------------------------------


class TestHistory:
    def test_history_of_several_operations_verifies(self, service, clock, alice):
        case = service.create(alice, body())
        for step in range(3):
            clock.advance(minutes=1)
            service.add_comment(alice, case.id, {"text": f"note {step}"})
            service.update(alice, case.id, {"title": f"Title {step}"}, str(step + 1))
        events = service.history(alice, case.id).items
        assert [e.seq for e in events] == list(range(1, 8))
        assert [e.type for e in events] == ["CASE_CREATED"] + ["COMMENT_ADDED", "CASE_UPDATED"] * 3
        assert service.verify_history(alice, case.id).model_dump() == {
            "valid": True, "events": 7, "first_invalid_seq": None,
        }
        assert set(events[0].to_api()) >= {"hash", "prevHash", "seq", "type", "actor", "at", "data"}

    def test_tampered_stored_event_is_detected(self, service, repo, alice):
        case = service.create(alice, body())
        service.update(alice, case.id, {"title": "Two"}, "1")
        service.update(alice, case.id, {"title": "Three"}, "2")
        repo.events[case.id][1] = repo.events[case.id][1].model_copy(update={"actor": "mallory"})
        result = service.verify_history(alice, case.id)
        assert (result.valid, result.first_invalid_seq) == (False, 2)

    def test_removed_newest_event_is_detected_against_the_case_head(self, service, repo, alice):
        case = service.create(alice, body())
        service.update(alice, case.id, {"title": "Two"}, "1")
        service.update(alice, case.id, {"title": "Three"}, "2")
        repo.events[case.id].pop()
        result = service.verify_history(alice, case.id)
        assert (result.valid, result.events, result.first_invalid_seq) == (False, 2, 3)

    def test_a_change_landing_between_the_two_reads_is_not_a_broken_chain(self, repo, alice):
        class ChangedWhileListing(InMemoryCaseRepository):
            """Another request comments right after this one has read the case."""
            change = None

            def list_events(self, case_id):
                if self.change:
                    change, self.change = self.change, None
                    change()
                return super().list_events(case_id)

        racing = ChangedWhileListing()
        service = make_service(racing)
        case = service.create(alice, body())
        racing.change = lambda: service.add_comment(alice, case.id, {"text": "meanwhile"})
        assert service.verify_history(alice, case.id).model_dump() == {
            "valid": True, "events": 1, "first_invalid_seq": None,
        }
        assert service.verify_history(alice, case.id).events == 2

    def test_events_past_a_head_that_did_not_move_are_detected(self, service, repo, alice):
        case = service.create(alice, body())
        forged = repo.events[case.id][0].model_copy(update={"seq": 2, "type": "COMMENT_ADDED"})
        repo.events[case.id].append(forged)
        result = service.verify_history(alice, case.id)
        assert (result.valid, result.first_invalid_seq) == (False, 2)

    def test_all_events_removed_is_detected(self, service, repo, alice):
        case = service.create(alice, body())
        repo.events[case.id] = []
        result = service.verify_history(alice, case.id)
        assert (result.valid, result.first_invalid_seq) == (False, 1)

    def test_history_of_an_invisible_case_is_not_found(self, service, alice, bob):
        case = service.create(alice, body())
        with pytest.raises(NotFound):
            service.history(bob, case.id)
        with pytest.raises(NotFound):
            service.verify_history(bob, case.id)


# -- case numbers --------------------------------------------------------------------------------


class CountingRepository(InMemoryCaseRepository):
    def __init__(self) -> None:
        super().__init__()
        self.reservations: list[tuple[str, int]] = []

    def reserve_case_numbers(self, scope: str, count: int) -> int:
        self.reservations.append((scope, count))
        return super().reserve_case_numbers(scope, count)


class TestCaseNumbers:
    def test_numbers_are_reserved_in_blocks(self, alice):
        repo = CountingRepository()
        service = make_service(repo, block_size=3)
        numbers = [service.create(alice, body()).number for _ in range(7)]
        assert repo.reservations == [("CASE_NUMBER#2026", 3)] * 3
        assert numbers == [f"CASE-2026-{n:06d}" for n in range(1, 8)]
        assert repo.counters["CASE_NUMBER#2026"] == 9

    def test_two_containers_never_share_a_number(self):
        repo = CountingRepository()
        one, two = CaseNumbers(repo, block_size=3), CaseNumbers(repo, block_size=3)
        issued = [one.next(2026), two.next(2026), one.next(2026), two.next(2026), one.next(2026),
                  one.next(2026), two.next(2026)]
        assert len(set(issued)) == len(issued)
        assert issued[:2] == ["CASE-2026-000001", "CASE-2026-000004"]
        assert issued[5] == "CASE-2026-000007"

    def test_years_have_separate_counters(self):
        repo = CountingRepository()
        numbers = CaseNumbers(repo, block_size=2)
        assert [numbers.next(2026), numbers.next(2027), numbers.next(2026)] == [
            "CASE-2026-000001", "CASE-2027-000001", "CASE-2026-000002"
        ]
        assert repo.reservations == [("CASE_NUMBER#2026", 2), ("CASE_NUMBER#2027", 2)]

    def test_numbers_are_unique_under_threads(self):
        numbers = CaseNumbers(CountingRepository(), block_size=4)
        with ThreadPoolExecutor(max_workers=8) as pool:
            issued = list(pool.map(lambda _: numbers.next(2026), range(50)))
        assert sorted(issued) == [f"CASE-2026-{n:06d}" for n in range(1, 51)]


def test_stale_write_is_what_the_port_raises():
    # The retry fakes above depend on the in-memory twin raising the port's StaleWrite.
    repo = InMemoryCaseRepository()
    case, event = new_case()
    create_case(repo, case, event, None)
    updated, update_event = changed(case, title="x")
    with pytest.raises(StaleWrite):
        save_case(repo, updated, expected_version=5, expected_audit_seq=1, event=update_event)

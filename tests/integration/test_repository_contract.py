"""One contract, two repositories: the in-memory twin the unit tests use must behave like DynamoDB.

TestCaseRepositoryContract runs against InMemoryCaseRepository and against DynamoCaseRepository on a fresh table
in the moto server (the `backend` fixture)."""
from __future__ import annotations

import json
import threading

import pytest
from pynamodb.signals import pre_dynamodb_send

from chalicelib.adapters.dynamo.changes import case_item, viewer_item
from chalicelib.domain.access import Visibility, participants_of
from chalicelib.domain.changes import CaseChange
from chalicelib.domain.models import CaseStatus, WorkflowState
from chalicelib.ports import CaseQuery, IdempotencyKeyTaken, IdempotencyRecord, InvalidStartKey, StaleWrite
from tests.support import add_comment, changed, comment_on, concurrently, create_case, new_case, save_case

EVERYTHING = Visibility(everything=True, team=None, username="root")
ISSUED, EXPIRES = 1772366400, 1772452800  # 2026-03-01T12:00Z and a day later


def query(visibility: Visibility = EVERYTHING, **filters) -> CaseQuery:
    return CaseQuery(visibility=visibility, **filters)


def record(case_id: str, owner: str = "alice", key: str = "key-1", issued_at: int = ISSUED,
           expires_at: int = EXPIRES) -> IdempotencyRecord:
    return IdempotencyRecord(owner=owner, key=key, request_hash=f"hash-of-{case_id}", case_id=case_id,
                             issued_at=issued_at, expires_at=expires_at)


def stored_record(repo, owner: str = "alice", key: str = "key-1") -> tuple:
    """What a replay reads back; issued_at only matters when writing, so it is not compared."""
    found = repo.get_idempotency(owner, key)
    return found and (found.owner, found.key, found.request_hash, found.case_id, found.expires_at)


def expected_record(case_id: str, **kwargs) -> tuple:
    r = record(case_id, **kwargs)
    return (r.owner, r.key, r.request_hash, r.case_id, r.expires_at)


def all_pages(repo, case_query: CaseQuery, limit: int) -> tuple[list[str], list[int]]:
    """Page through a listing as the API does, the resume key round-tripping through JSON (the cursor)."""
    seen, sizes, key = [], [], None
    for _ in range(50):
        items, key = repo.list_cases(case_query, limit, key)
        assert len(items) <= limit
        seen += [case.id for case in items]
        sizes.append(len(items))
        if key is None:
            return seen, sizes
        key = json.loads(json.dumps(key))
    raise AssertionError("pagination did not end")


class TestCaseRepositoryContract:
    @pytest.fixture
    def repo(self, cases):
        return cases

    @pytest.fixture
    def stored(self, repo):
        case, event = new_case("case-1")
        create_case(repo, case, event, None)
        return case

    @pytest.fixture
    def listed(self, repo):
        """Six cases, a minute apart: c6 is the newest."""
        specs = {
            "c1": dict(team="general", created_by="alice", case_type="GENERAL", priority="LOW", customer_id="CUST-1"),
            "c2": dict(team="claims", created_by="bob", case_type="CLAIM", priority="HIGH", customer_id="CUST-2",
                       status="OPEN", assignee="carol"),
            "c3": dict(team="general", created_by="erin", case_type="COMPLAINT", priority="HIGH",
                       customer_id="CUST-1", participants=["ann", "dave"]),
            "c4": dict(team="claims", created_by="bob", case_type="CLAIM", priority="CRITICAL", customer_id="CUST-3",
                       status="IN_PROGRESS", assignee="alice"),
            "c5": dict(team=None, created_by="root", case_type="GENERAL", priority="MEDIUM", customer_id="CUST-2"),
            "c6": dict(team="general", created_by="alice", case_type="GENERAL", priority="HIGH", customer_id="CUST-1",
                       assignee="alice"),
        }
        for minute, (case_id, spec) in enumerate(specs.items(), start=1):
            create_case(repo, *new_case(case_id, minute=minute, **spec), None)
        return specs

    # -- create / get ------------------------------------------------------------------------

    def test_missing_case_is_none(self, repo):
        assert repo.get_case("nope") is None

    def test_round_trip_of_every_field(self, repo):
        case, event = new_case(
            "case-full", title="Kessel defekt — Ölheizung 🔥", description="line one\nline two" + "x" * 5000,
            case_type="CLAIM", priority="CRITICAL", customer_id="CUST-9", status="PENDING_APPROVAL", version=1,
            compensation={"amount": "1250.00", "currency": "EUR"}, required_documents=["claim-form", "proof-of-loss"],
            tags=["water", "vip", "2nd floor"], team="claims", assignee="carol", participants=["dave", "erin"],
            due_at="2026-03-02T12:00:00.000Z", sla_paused_at="2026-03-01T12:30:00.000Z", case_type_version=3,
            fields={"severity": "high", "units": 2, "weight": 2.5, "urgent": False, "bought": "2026-01-31",
                    "price": {"amount": "19.99", "currency": "EUR"}, "note": "Ölheizung 🔥"},
        )
        create_case(repo, case, event, None)
        loaded = repo.get_case("case-full")
        assert loaded == case
        assert loaded.model_dump() == case.model_dump()
        assert (loaded.audit_seq, loaded.audit_hash) == (1, event.hash)
        assert loaded.compensation.amount == "1250.00" and loaded.compensation.currency == "EUR"
        assert loaded.to_api() == case.to_api()

    def test_round_trip_of_a_minimal_case(self, repo):
        case, event = new_case("case-min", description="", tags=[], required_documents=[], participants=[],
                               team=None, assignee=None, compensation=None)
        create_case(repo, case, event, None)
        loaded = repo.get_case("case-min")
        assert loaded == case
        assert (loaded.description, loaded.team, loaded.assignee, loaded.compensation) == ("", None, None, None)
        assert (loaded.tags, loaded.required_documents, loaded.participants) == ([], [], [])

    def test_create_stores_the_first_event(self, repo, stored):
        [event] = repo.list_events(stored.id)
        assert (event.seq, event.type, event.hash) == (1, "CASE_CREATED", stored.audit_hash)

    def test_create_with_an_idempotency_record(self, repo):
        case, event = new_case("case-1")
        create_case(repo, case, event, record("case-1"))
        assert stored_record(repo) == expected_record("case-1")
        assert repo.get_case("case-1") == case

    def test_idempotency_record_round_trips_exactly(self, repo):
        create_case(repo, *new_case("case-1"), record("case-1"))
        assert repo.get_idempotency("alice", "key-1") == record("case-1")

    def test_unknown_idempotency_key_is_none(self, repo):
        create_case(repo, *new_case("case-1"), record("case-1"))
        assert repo.get_idempotency("alice", "key-2") is None
        assert repo.get_idempotency("bob", "key-1") is None

    def test_idempotency_records_of_different_owners_never_collide(self, repo):
        # "a#b" with key "c" and "a" with key "b#c" are two users' two keys, whatever a key format joins.
        create_case(repo, *new_case("case-1"), record("case-1", owner="a#b", key="c"))
        create_case(repo, *new_case("case-2", minute=1), record("case-2", owner="a", key="b#c"))
        assert stored_record(repo, "a#b", "c") == expected_record("case-1", owner="a#b", key="c")
        assert stored_record(repo, "a", "b#c") == expected_record("case-2", owner="a", key="b#c")

    def test_taken_idempotency_key_writes_nothing(self, repo):
        create_case(repo, *new_case("case-1"), record("case-1"))
        with pytest.raises(IdempotencyKeyTaken):
            create_case(repo, *new_case("case-2", minute=1), record("case-2"))
        assert repo.get_case("case-2") is None
        assert repo.list_events("case-2") == []
        assert stored_record(repo) == expected_record("case-1")
        assert [c.id for c in repo.list_cases(query(), 100, None)[0]] == ["case-1"]

    def test_expired_idempotency_record_no_longer_holds_the_key(self, repo):
        create_case(repo, *new_case("case-1"), record("case-1", expires_at=EXPIRES))
        create_case(repo, *new_case("case-2", minute=1), record("case-2", issued_at=EXPIRES + 1,
                                                                expires_at=EXPIRES + 86400))
        assert stored_record(repo) == expected_record("case-2", expires_at=EXPIRES + 86400)
        assert repo.get_case("case-2") is not None

    def test_record_expiring_at_the_issue_instant_is_free(self, repo):
        create_case(repo, *new_case("case-1"), record("case-1", expires_at=EXPIRES))
        create_case(repo, *new_case("case-2"), record("case-2", issued_at=EXPIRES, expires_at=EXPIRES + 86400))
        assert stored_record(repo)[3] == "case-2"

    def test_record_alive_at_the_issue_instant_holds_the_key(self, repo):
        create_case(repo, *new_case("case-1"), record("case-1", expires_at=EXPIRES))
        with pytest.raises(IdempotencyKeyTaken):
            create_case(repo, *new_case("case-2"), record("case-2", issued_at=EXPIRES - 1))
        assert repo.get_case("case-2") is None

    def test_same_key_of_another_user_is_free(self, repo):
        create_case(repo, *new_case("case-1"), record("case-1", owner="alice"))
        create_case(repo, *new_case("case-2"), record("case-2", owner="bob"))
        assert repo.get_idempotency("bob", "key-1").case_id == "case-2"

    def test_existing_case_id_is_not_overwritten(self, repo, stored):
        other, other_event = new_case("case-1", title="Impostor", minute=9)
        with pytest.raises(StaleWrite):
            create_case(repo, other, other_event, None)
        assert repo.get_case("case-1") == stored
        assert len(repo.list_events("case-1")) == 1

    # -- save_case ---------------------------------------------------------------------------

    def test_save_replaces_the_case_and_appends_the_event(self, repo, stored):
        updated, event = changed(stored, title="Boiler leaking", status="OPEN", assignee="dave")
        save_case(repo, updated, expected_version=1, expected_audit_seq=1, event=event)
        assert repo.get_case(stored.id) == updated
        assert [e.seq for e in repo.list_events(stored.id)] == [1, 2]
        assert repo.list_events(stored.id)[1] == event

    @pytest.mark.parametrize(
        "expected_version, expected_audit_seq", [(0, 1), (1, 7)], ids=["stale-version", "stale-audit-seq"],
    )
    def test_a_stale_version_or_audit_seq_changes_nothing(self, repo, stored, expected_version, expected_audit_seq):
        updated, event = changed(stored, title="Lost update")
        with pytest.raises(StaleWrite):
            save_case(repo, updated, expected_version=expected_version, expected_audit_seq=expected_audit_seq,
                      event=event)
        assert repo.get_case(stored.id) == stored
        assert len(repo.list_events(stored.id)) == 1

    def test_second_writer_from_the_same_read_loses(self, repo, stored):
        mine, my_event = changed(stored, title="Mine")
        theirs, their_event = changed(stored, title="Theirs")
        save_case(repo, mine, 1, 1, my_event)
        with pytest.raises(StaleWrite):
            save_case(repo, theirs, 1, 1, their_event)
        assert repo.get_case(stored.id).title == "Mine"
        assert repo.list_events(stored.id)[-1] == my_event

    def test_saving_a_missing_case_is_stale(self, repo):
        ghost, _ = new_case("ghost")
        updated, event = changed(ghost, title="x")
        with pytest.raises(StaleWrite):
            save_case(repo, updated, 1, 1, event)
        assert repo.get_case("ghost") is None
        assert repo.list_events("ghost") == []

    # -- a noted change: the system's bookkeeping on the case (which execution carries its run) -------

    def test_a_noted_change_is_stored_with_no_new_version_and_no_event(self, repo, stored):
        carried_on = WorkflowState(stage="TASKS", execution_id="exec-2", executions=["exec-1", "exec-2"])
        change = CaseChange(stored, "workflow", "2026-03-02T09:00:00.000Z")
        change.note(workflow=carried_on)
        repo.apply(change)
        assert repo.get_case(stored.id) == stored.model_copy(update={"workflow": carried_on})
        assert len(repo.list_events(stored.id)) == 1

    def test_a_noted_change_over_a_stale_read_changes_nothing(self, repo, stored):
        updated, event = changed(stored, title="Moved meanwhile")
        save_case(repo, updated, 1, 1, event)
        change = CaseChange(stored, "workflow", "2026-03-02T09:00:00.000Z")
        change.note(workflow=WorkflowState(stage="TASKS", execution_id="exec-2"))
        with pytest.raises(StaleWrite):
            repo.apply(change)
        assert repo.get_case(stored.id) == updated

    def test_listing_follows_saved_changes(self, repo, listed):
        current = repo.get_case("c1")
        updated, event = changed(current, assignee="dave", priority="CRITICAL", customer_id="CUST-7")
        save_case(repo, updated, current.version, current.audit_seq, event)
        assert [c.id for c in repo.list_cases(query(assignee="dave"), 10, None)[0]] == ["c1"]
        assert [c.id for c in repo.list_cases(query(customer_id="CUST-7"), 10, None)[0]] == ["c1"]
        assert [c.id for c in repo.list_cases(query(priority="CRITICAL"), 10, None)[0]] == ["c4", "c1"]
        unassigned, event = changed(updated, assignee=None)
        save_case(repo, unassigned, updated.version, updated.audit_seq, event)
        assert repo.list_cases(query(assignee="dave"), 10, None)[0] == []

    # -- comments ------------------------------------------------------------------------------

    def test_comment_is_stored_with_its_event_and_moves_the_audit_head(self, repo, stored):
        comment, event = comment_on(stored, "cm-1")
        add_comment(repo, comment, expected_audit_seq=1, event=event)
        assert repo.comments_page(stored.id, 100, None)[0] == [comment]
        assert repo.list_events(stored.id)[-1] == event
        head = repo.get_case(stored.id)
        assert (head.version, head.audit_seq, head.audit_hash) == (1, 2, event.hash)
        assert head.model_dump() == stored.model_dump()  # nothing else changed

    def test_comment_with_a_stale_audit_seq_writes_nothing(self, repo, stored):
        comment, event = comment_on(stored, "cm-1")
        with pytest.raises(StaleWrite):
            add_comment(repo, comment, expected_audit_seq=5, event=event)
        assert repo.comments_page(stored.id, 100, None)[0] == []
        assert len(repo.list_events(stored.id)) == 1
        assert repo.get_case(stored.id) == stored

    def test_comment_on_a_missing_case_is_stale(self, repo):
        ghost, _ = new_case("ghost")
        comment, event = comment_on(ghost, "cm-1")
        with pytest.raises(StaleWrite):
            add_comment(repo, comment, 1, event)
        assert repo.comments_page("ghost", 100, None)[0] == []
        assert repo.get_case("ghost") is None

    def test_comments_are_listed_oldest_first_per_case(self, repo, stored):
        other, other_event = new_case("case-2")
        create_case(repo, other, other_event, None)
        head = stored
        for minute, comment_id in [(3, "cm-b"), (3, "cm-a"), (5, "cm-c")]:
            comment, event = comment_on(head, comment_id, f"text {comment_id}", minute=minute)
            add_comment(repo, comment, head.audit_seq, event)
            head = repo.get_case(head.id)
        other_comment, other_comment_event = comment_on(other, "cm-other")
        add_comment(repo, other_comment, 1, other_comment_event)
        assert [c.id for c in repo.comments_page(stored.id, 100, None)[0]] == ["cm-a", "cm-b", "cm-c"]
        assert [c.id for c in repo.comments_page("case-2", 100, None)[0]] == ["cm-other"]
        assert repo.comments_page("nope", 100, None)[0] == []

    # -- events --------------------------------------------------------------------------------

    def test_events_are_listed_in_seq_order_past_nine(self, repo, stored):
        head = stored
        for n in range(11):
            updated, event = changed(head, title=f"Title {n}")
            save_case(repo, updated, head.version, head.audit_seq, event)
            head = updated
        events = repo.list_events(stored.id)
        assert [e.seq for e in events] == list(range(1, 13))
        for previous, current in zip(events, events[1:]):
            assert current.prev_hash == previous.hash

    def test_events_of_an_unknown_case_are_empty(self, repo):
        assert repo.list_events("nope") == []

    # -- list_cases ----------------------------------------------------------------------------

    def test_list_newest_first(self, repo, listed):
        items, key = repo.list_cases(query(), 100, None)
        assert [c.id for c in items] == ["c6", "c5", "c4", "c3", "c2", "c1"]
        assert key is None

    def test_listed_cases_are_whole_cases(self, repo, listed):
        items, _ = repo.list_cases(query(), 100, None)
        assert items == [repo.get_case(c.id) for c in items]

    def test_list_of_an_empty_store(self, repo):
        assert repo.list_cases(query(), 10, None) == ([], None)

    # Read-only listings share one seeded table per test; a mismatch names the listing that failed.

    def test_filters(self, repo, listed):
        cases = [
            (dict(status="NEW"), ["c6", "c5", "c3", "c1"]),
            (dict(status="OPEN"), ["c2"]),
            (dict(status="CLOSED"), []),
            (dict(priority="HIGH"), ["c6", "c3", "c2"]),
            (dict(case_type="CLAIM"), ["c4", "c2"]),
            (dict(customer_id="CUST-1"), ["c6", "c3", "c1"]),
            (dict(customer_id="nobody"), []),
            (dict(assignee="alice"), ["c6", "c4"]),
            (dict(assignee="carol"), ["c2"]),
            (dict(assignee="nobody"), []),
            (dict(assignee="alice", customer_id="CUST-3"), ["c4"]),
            (dict(assignee="alice", status="NEW"), ["c6"]),
            (dict(customer_id="CUST-1", priority="HIGH"), ["c6", "c3"]),
            (dict(customer_id="CUST-2", case_type="GENERAL", status="NEW"), ["c5"]),
        ]
        got = {json.dumps(f): [c.id for c in repo.list_cases(query(**f), 100, None)[0]] for f, _ in cases}
        assert got == {json.dumps(f): expected for f, expected in cases}

    def test_custom_field_filters_on_case_items_and_viewer_copies(self, repo):
        """Exact matches, all of them at once, beside the other filters, through every list (the month lists, an
        assignee's, a person's and team's), paged."""
        values = [
            {"severity": "high", "urgent": True}, {"severity": "low", "urgent": True}, {"severity": "high"},
            {"severity": "high", "urgent": False}, {}, {"severity": "high", "urgent": True},
        ]
        for n, fields in enumerate(values, start=1):
            create_case(repo, *new_case(f"f{n}", minute=n, assignee="alice", fields=fields), None)
        mine = Visibility(False, "general", "alice")
        cases = [
            ({"severity": "high"}, EVERYTHING, {}, ["f6", "f4", "f3", "f1"]),
            ({"urgent": True}, EVERYTHING, {}, ["f6", "f2", "f1"]),
            ({"urgent": False}, EVERYTHING, {}, ["f4"]),
            ({"severity": "medium"}, EVERYTHING, {}, []),
            ({"severity": "high", "urgent": True}, EVERYTHING, {}, ["f6", "f1"]),
            ({"severity": "high", "urgent": True}, EVERYTHING, {"assignee": "alice"}, ["f6", "f1"]),
            ({"severity": "high", "urgent": True}, mine, {}, ["f6", "f1"]),
            ({"severity": "high"}, mine, {"status": "NEW"}, ["f6", "f4", "f3", "f1"]),
            ({"severity": "high"}, mine, {"status": "OPEN"}, []),
        ]
        for fields, scope, filters, expected in cases:
            for limit in (1, 2, 10):
                seen, _ = all_pages(repo, query(scope, fields=fields, **filters), limit)
                assert seen == expected, (fields, scope, filters, limit)

    def test_visibility(self, repo, listed):
        cases = [
            (Visibility(False, "general", "alice"), ["c6", "c4", "c3", "c1"]),
            (Visibility(False, "claims", "bob"), ["c4", "c2"]),
            (Visibility(False, "claims", "frank"), ["c4", "c2"]),
            (Visibility(False, None, "ann"), ["c3"]),
            (Visibility(False, None, "dave"), ["c3"]),
            (Visibility(False, None, "carol"), ["c2"]),
            (Visibility(False, None, "root"), ["c5"]),
            (Visibility(False, None, "alice"), ["c6", "c4", "c1"]),
            (Visibility(False, None, "nobody"), []),
            (Visibility(False, "complaints", "nobody"), []),
        ]
        got = {f"{v.team}/{v.username}": [c.id for c in repo.list_cases(query(v), 100, None)[0]] for v, _ in cases}
        assert got == {f"{v.team}/{v.username}": expected for v, expected in cases}

    def test_visibility_combines_with_filters(self, repo, listed):
        scope = Visibility(False, "general", "alice")
        assert [c.id for c in repo.list_cases(query(scope, priority="HIGH"), 10, None)[0]] == ["c6", "c3"]
        assert [c.id for c in repo.list_cases(query(scope, assignee="carol"), 10, None)[0]] == []
        assert [c.id for c in repo.list_cases(query(scope, customer_id="CUST-3"), 10, None)[0]] == ["c4"]

    def test_first_page_is_full_when_more_exist(self, repo, listed):
        items, key = repo.list_cases(query(), 2, None)
        assert [c.id for c in items] == ["c6", "c5"]
        assert key is not None

    def test_pagination_visits_every_match_once_in_order(self, repo, listed):
        everyone = ["c6", "c5", "c4", "c3", "c2", "c1"]
        cases = [
            ("all by 2", query(), 2, everyone),
            ("all by 1", query(), 1, everyone),
            ("all by 5", query(), 5, everyone),
            ("all by 6", query(), 6, everyone),
            ("team general + alice by 1", query(Visibility(False, "general", "alice")), 1, ["c6", "c4", "c3", "c1"]),
            ("ann by 1", query(Visibility(False, None, "ann")), 1, ["c3"]),
            ("status NEW by 3", query(status="NEW"), 3, ["c6", "c5", "c3", "c1"]),
            ("customer CUST-1 by 2", query(customer_id="CUST-1"), 2, ["c6", "c3", "c1"]),
            ("assignee alice by 1", query(assignee="alice"), 1, ["c6", "c4"]),
            ("claims/bob customer CUST-2 by 1", query(Visibility(False, "claims", "bob"), customer_id="CUST-2"), 1,
             ["c2"]),
        ]
        got, full_pages = {}, {}
        for name, case_query, limit, expected in cases:
            seen, sizes = all_pages(repo, case_query, limit)
            got[name] = seen
            full_pages[name] = all(size == limit for size in sizes[: len(expected) // limit])
        assert got == {name: expected for name, _, _, expected in cases}
        assert all(full_pages.values()), full_pages

    def test_pagination_over_cases_created_in_the_same_instant(self, repo):
        for n in range(7):
            create_case(repo, *new_case(f"same-{n}", minute=0), None)
        seen, _ = all_pages(repo, query(), 3)
        assert seen == [f"same-{n}" for n in reversed(range(7))]

    @pytest.mark.parametrize("filters", [dict(customer_id=""), dict(assignee="")])
    def test_empty_filter_value_matches_nothing(self, repo, listed, filters):
        assert repo.list_cases(query(**filters), 10, None) == ([], None)

    # -- the case lists: a page reads what the caller may see, at most two Query requests ---------

    @pytest.fixture
    def dynamo(self, request):
        """The table's models when the test runs on DynamoDB; None on the in-memory twin."""
        on_dynamo = request.node.callspec.params.get("backend") == "dynamo"
        return request.getfixturevalue("dynamo_models") if on_dynamo else None

    @pytest.fixture
    def queries(self, dynamo):
        """The DynamoDB operations sent (none on the in-memory twin)."""
        sent: list[str] = []

        def on_send(sender, operation_name, table_name, **_) -> None:
            sent.append(operation_name)

        if dynamo is None:
            yield sent
            return
        pre_dynamodb_send.connect(on_send)
        yield sent
        pre_dynamodb_send.disconnect(on_send)

    @pytest.fixture
    def seed(self, repo, dynamo):
        """Stores new cases, one change each; on DynamoDB the first through its change and the others as the
        items their changes write, in one batch (moto copies the whole table per transaction item)."""

        def write(cases):
            if dynamo is None:
                for case, event in cases:
                    create_case(repo, case, event, None)
                return
            create_case(repo, *cases[0], None)
            with dynamo.case.batch_write() as batch:
                for case, _ in cases[1:]:
                    batch.save(case_item(dynamo, case))
                    for username in participants_of(case):
                        batch.save(viewer_item(dynamo, username, case))

        return write

    def test_a_caseworker_whose_team_owns_none_of_200_cases_reads_an_empty_page(self, repo, queries, seed):
        seed([new_case(f"other-{n:03d}", minute=n, team="claims", created_by="bob") for n in range(200)])
        queries.clear()
        assert repo.list_cases(query(Visibility(False, "complaints", "carol")), 25, None) == ([], None)
        assert queries.count("Query") <= 2
        queries.clear()
        items, key = repo.list_cases(query(Visibility(False, "claims", "frank")), 25, None)
        assert [c.id for c in items] == [f"other-{n:03d}" for n in range(199, 174, -1)]
        assert key is not None and queries.count("Query") <= 2
        queries.clear()
        items, _ = repo.list_cases(query(Visibility(False, "claims", "frank")), 25, json.loads(json.dumps(key)))
        assert [c.id for c in items] == [f"other-{n:03d}" for n in range(174, 149, -1)]
        assert queries.count("Query") <= 2

    @pytest.fixture
    def across_months(self, repo):
        """Cases in January, March and April 2026 (none in February); per month the oldest first."""
        days = {"j1": -50, "j2": -45, "m1": 0, "m2": 1, "m3": 2, "a1": 40, "a2": 41}
        for case_id, day in days.items():
            priority = "HIGH" if case_id in ("j1", "m2", "a2") else "LOW"
            create_case(repo, *new_case(case_id, minute=day * 24 * 60, priority=priority, team="general"), None)
        return ["a2", "a1", "m3", "m2", "m1", "j2", "j1"]

    def test_pages_cross_month_shards_newest_first(self, repo, across_months, queries):
        # a page reads at most two months: it is short where it ends a month and two months hold too few
        pages = {1: [1] * 7 + [0], 2: [2, 2, 2, 1], 3: [3, 3, 1], 7: [5, 2], 10: [5, 2]}
        for limit, expected_sizes in pages.items():
            seen, key, sizes = [], None, []
            for _ in range(20):
                queries.clear()
                items, key = repo.list_cases(query(), limit, key)
                assert queries.count("Query") <= 2
                seen += [c.id for c in items]
                sizes.append(len(items))
                if key is None:
                    break
                key = json.loads(json.dumps(key))
            assert (seen, sizes) == (across_months, expected_sizes), limit

    def test_filters_and_team_lists_across_months(self, repo, across_months):
        assert all_pages(repo, query(priority="HIGH"), 1)[0] == ["a2", "m2", "j1"]
        assert all_pages(repo, query(Visibility(False, "general", "zed")), 2)[0] == across_months
        assert all_pages(repo, query(Visibility(False, "general", "zed"), priority="HIGH"), 2)[0] == ["a2", "m2", "j1"]

    def test_lists_follow_a_change_of_team_assignee_and_participants(self, repo):
        create_case(repo, *new_case("c1", team="general", created_by="alice", assignee="dave"), None)

        def seen_by(team, username, **filters):
            return [c.id for c in repo.list_cases(query(Visibility(False, team, username), **filters), 10, None)[0]]

        assert (seen_by(None, "dave"), seen_by(None, "erin"), seen_by("claims", "frank")) == (["c1"], [], [])
        stored = repo.get_case("c1")
        change = CaseChange(stored, "alice", stored.updated_at)
        change.append("CASE_UPDATED", {"assignee": "erin", "team": "claims", "participants": ["gus"]})
        change.move(assignee="erin", team="claims", participants=["gus"], status=CaseStatus.IN_PROGRESS)
        repo.apply(change)
        assert (seen_by(None, "dave"), seen_by(None, "erin"), seen_by(None, "gus")) == ([], ["c1"], ["c1"])
        assert (seen_by("claims", "frank"), seen_by("general", "greg"), seen_by(None, "alice")) == (["c1"], [], ["c1"])
        assert seen_by(None, "gus", status="IN_PROGRESS", assignee="erin") == ["c1"]
        assert seen_by(None, "gus", status="NEW") == []
        [listed] = repo.list_cases(query(Visibility(False, None, "gus")), 10, None)[0]
        assert listed.to_api() == repo.get_case("c1").to_api()  # the copy is the case as the API shows it

    @pytest.mark.parametrize("start_key", [
        {"before": ""}, {"before": 7}, {"before": "z" * 2000}, {"before": "z", "extra": 1},
        {"before": "z", "done": [5]}, {"before": "z", "done": [0, 0]}, {"before": "z", "done": "0"},
        {"before": "z", "done": [0, 1]}, {"PK": {"S": "CASE#c1"}, "SK": {"S": "CASE"}},
    ])
    def test_a_key_this_listing_did_not_issue_is_invalid(self, repo, listed, start_key):
        with pytest.raises(InvalidStartKey):
            repo.list_cases(query(Visibility(False, "general", "alice")), 2, start_key)

    # -- counters ------------------------------------------------------------------------------

    def test_reserve_advances_the_counter(self, repo):
        assert repo.reserve_case_numbers("CASE_NUMBER#2026", 10) == 10
        assert repo.reserve_case_numbers("CASE_NUMBER#2026", 10) == 20
        assert repo.reserve_case_numbers("CASE_NUMBER#2026", 1) == 21

    def test_scopes_have_their_own_counters(self, repo):
        repo.reserve_case_numbers("CASE_NUMBER#2026", 5)
        assert repo.reserve_case_numbers("CASE_NUMBER#2027", 3) == 3

    def test_concurrent_reservations_never_share_a_number(self, repo):
        results: list[int] = []
        lock = threading.Lock()

        def reserve() -> None:
            value = repo.reserve_case_numbers("CASE_NUMBER#2026", 1)
            with lock:
                results.append(value)

        concurrently(*[reserve] * 20)
        assert sorted(results) == list(range(1, 21))

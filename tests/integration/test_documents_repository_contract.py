"""One contract, two document stores: the in-memory twin the unit tests use must behave like DynamoDB.

TestDocumentContract runs against InMemoryDocumentStore and against DynamoDocumentStore on a fresh table in the
moto server (the `backend` fixture); TestDynamoDocuments holds what only DynamoDB has to get right. The service
runs on both too: duplicate and out-of-order S3 events leave one version record and the newest as latest."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Optional

import pytest

from chalicelib.adapters.memory.storage import InMemoryObjectStorage
from chalicelib.domain import audit
from chalicelib.domain.changes import CaseChange
from chalicelib.domain.documents import (
    DocumentRecord, LegalHold, UploadRequest, VersionRecord, VersionStatus, object_key,
)
from chalicelib.ports import StaleWrite
from chalicelib.services.documents import DocumentService
from tests.support import (
    FixedClock, SequentialIds, chained, concurrently, create_case, events_change, new_case, principal,
)

AT = "2026-03-01T12:00:00.000Z"
alice = principal("alice", "caseworker", team="claims")
ada = principal("ada", "admin")


def a_document(case_id: str = "case-1", document_id: str = "doc-1", **fields) -> DocumentRecord:
    upload = UploadRequest(filename="claim.pdf", content_type="application/pdf", size=10, requested_by="alice",
                           requested_at=AT)
    values = dict(id=document_id, case_id=case_id, filename="claim.pdf", content_type="application/pdf",
                  created_at=AT, created_by="alice", updated_at=AT, upload=upload, kind="claim-form")
    values.update(fields)
    return DocumentRecord(**values)


def a_version(version_id: str, case_id: str = "case-1", document_id: str = "doc-1", **fields) -> VersionRecord:
    values = dict(version_id=version_id, document_id=document_id, case_id=case_id, bucket="docs",
                  key=object_key(case_id, document_id), sequencer="01", size=10, etag="e", filename="claim.pdf",
                  content_type="application/pdf", uploaded_at=AT, registered_at=AT, metadata={"pages": 3})
    values.update(fields)
    return VersionRecord(**values)


@dataclass(frozen=True)
class DocumentWrite:
    document: DocumentRecord
    expected_revision: Optional[int] = None  # None: a new document, which must not exist yet


@dataclass(frozen=True)
class VersionWrite:
    version: VersionRecord
    expected_revision: Optional[int] = None  # None: a new version, which must not exist yet


@dataclass(frozen=True)
class HoldWrite:
    hold: LegalHold
    expected_revision: int  # 0: none stored yet


def change(cases, case_id: str = "case-1", events: int = 1, documents=(), versions=(), hold=None,
           requires_no_hold=False) -> CaseChange:
    expected, following = chained(cases, case_id, events, "DOCUMENT_TEST")
    built = events_change(case_id, expected, following, "system")
    for write in documents:
        built.put(write.document, expected=write.expected_revision)
    for write in versions:
        built.put(write.version, expected=write.expected_revision)
    if hold is not None:
        built.put(hold.hold, expected=hold.expected_revision or None)
    if requires_no_hold:
        built.require_no_hold()
    return built


PDF = {"filename": "a.pdf", "contentType": "application/pdf", "size": 10}


def s3_event(case_id, document_id, version_id, sequencer):
    return {"Records": [{
        "eventSource": "aws:s3", "eventName": "ObjectCreated:Post", "eventTime": AT,
        "s3": {"bucket": {"name": "docs"}, "object": {
            "key": object_key(case_id, document_id), "size": 10, "eTag": "e", "versionId": version_id,
            "sequencer": sequencer,
        }},
    }]}


@pytest.fixture
def store(backend):
    return backend.documents


@pytest.fixture(autouse=True)
def case(cases):
    case, event = new_case("case-1", team="claims", required_documents=["claim-form"])
    create_case(cases, case, event, None)
    return case


class TestDocumentContract:
    def test_a_document_and_its_event_are_written_together(self, cases, store):
        cases.apply(change(cases, documents=[DocumentWrite(a_document())]))
        assert store.get_document("case-1", "doc-1") == a_document()
        assert cases.get_case("case-1").audit_seq == 2
        assert [e.type for e in cases.list_events("case-1")] == ["CASE_CREATED", "DOCUMENT_TEST"]
        assert store.get_document("case-1", "doc-2") is None and store.get_document("case-2", "doc-1") is None

    def test_a_stale_chain_head_writes_nothing(self, cases, store):
        stale = change(cases, documents=[DocumentWrite(a_document())])
        cases.apply(change(cases, documents=[DocumentWrite(a_document("case-1", "doc-0"))]))
        with pytest.raises(StaleWrite):
            cases.apply(stale)
        assert store.get_document("case-1", "doc-1") is None
        assert len(cases.list_events("case-1")) == 2

    def test_a_document_is_created_once_and_changed_at_its_revision(self, cases, store):
        cases.apply(change(cases, documents=[DocumentWrite(a_document())]))
        with pytest.raises(StaleWrite):
            cases.apply(change(cases, documents=[DocumentWrite(a_document(filename="other.pdf"))]))
        renamed = a_document(filename="v2.pdf", revision=2)
        cases.apply(change(cases, documents=[DocumentWrite(renamed, expected_revision=1)]))
        with pytest.raises(StaleWrite):
            cases.apply(change(cases, documents=[DocumentWrite(a_document(revision=3), expected_revision=1)]))
        assert store.get_document("case-1", "doc-1").filename == "v2.pdf"
        assert audit.verify_chain(cases.list_events("case-1")).valid

    def test_a_version_is_registered_once(self, cases, store):
        cases.apply(change(cases, documents=[DocumentWrite(a_document())], versions=[VersionWrite(a_version("v1"))]))
        with pytest.raises(StaleWrite):  # a duplicate event's write
            cases.apply(change(cases, versions=[VersionWrite(a_version("v1", size=99))]))
        assert store.get_version("case-1", "doc-1", "v1") == a_version("v1")
        done = a_version("v1", status=VersionStatus.READY, sha256="a" * 64, revision=2, reasons=[])
        cases.apply(change(cases, versions=[VersionWrite(done, expected_revision=1)]))
        with pytest.raises(StaleWrite):
            cases.apply(change(cases, versions=[VersionWrite(a_version("v1", revision=3), expected_revision=1)]))
        assert store.get_version("case-1", "doc-1", "v1").status == VersionStatus.READY
        assert store.get_version("case-1", "doc-1", "v9") is None

    def test_listing_a_cases_documents_and_versions(self, cases, store):
        cases.apply(change(cases, documents=[DocumentWrite(a_document("case-1", "doc-1")),
                                             DocumentWrite(a_document("case-1", "doc-2", deleted=True))],
                           versions=[VersionWrite(a_version("v1")), VersionWrite(a_version("v2")),
                                     VersionWrite(a_version("v1", document_id="doc-2"))]))
        documents, versions = store.list_documents("case-1")
        assert sorted(d.id for d in documents) == ["doc-1", "doc-2"]
        assert sorted((v.document_id, v.version_id) for v in versions) == [
            ("doc-1", "v1"), ("doc-1", "v2"), ("doc-2", "v1")]
        assert sorted(v.version_id for v in store.list_versions("case-1", "doc-1")) == ["v1", "v2"]
        assert store.list_versions("case-1", "doc-3") == [] and store.list_documents("case-2") == ([], [])

    def test_the_legal_hold_is_stored_apart_and_blocks_what_requires_none(self, cases, store):
        assert store.get_legal_hold("case-1") == LegalHold(case_id="case-1", enabled=False)
        cases.apply(change(cases, documents=[DocumentWrite(a_document())]))
        hold = LegalHold(case_id="case-1", enabled=True, reason="court", updated_at=AT, updated_by="ada", revision=1)
        cases.apply(change(cases, hold=HoldWrite(hold, expected_revision=0)))
        stored = store.get_legal_hold("case-1")
        assert (stored.enabled, stored.reason, stored.revision) == (True, "court", 1)
        with pytest.raises(StaleWrite):  # a second first hold
            cases.apply(change(cases, hold=HoldWrite(hold, expected_revision=0)))
        deletion = [DocumentWrite(a_document(deleted=True, revision=2), expected_revision=1)]
        with pytest.raises(StaleWrite):
            cases.apply(change(cases, documents=deletion, requires_no_hold=True))
        assert not store.get_document("case-1", "doc-1").deleted
        lifted = LegalHold(case_id="case-1", enabled=False, updated_at=AT, updated_by="ada", revision=2)
        cases.apply(change(cases, hold=HoldWrite(lifted, expected_revision=1)))
        cases.apply(change(cases, documents=deletion, requires_no_hold=True))
        assert store.get_document("case-1", "doc-1").deleted
        assert cases.get_case("case-1").version == 1  # the case item itself is untouched but for its audit head

    def test_requires_no_hold_passes_when_none_was_ever_set(self, cases, store):
        cases.apply(change(cases, documents=[DocumentWrite(a_document())], requires_no_hold=True))
        assert store.get_document("case-1", "doc-1") is not None

    def test_the_service_registers_duplicate_and_late_events_once(self, cases, store):
        storage = InMemoryObjectStorage("docs")
        service = DocumentService(cases, store, storage, clock=FixedClock(), new_id=SequentialIds("doc"))
        ticket = service.request_upload(alice, "case-1", {"filename": "a.pdf", "contentType": "application/pdf",
                                                          "size": 10, "kind": "claim-form"})
        doc = ticket.document_id
        storage.post(ticket.upload.fields, b"first", "v1")
        storage.post(service.request_new_version(alice, "case-1", doc, PDF).upload.fields, b"second", "v2")
        for version, sequencer in (("v2", "0002"), ("v2", "0002"), ("v1", "0001"), ("v2", "0002")):
            service.on_s3_event(s3_event("case-1", doc, version, sequencer))
        detail = service.get(alice, "case-1", doc)
        assert detail.latest_version_id == "v2" and detail.version_count == 2
        assert [v.version_id for v in detail.versions] == ["v1", "v2"]
        service.record_processing_result("case-1", doc, "v2", {"status": "READY"})
        assert service.required_documents_ready(cases.get_case("case-1"))
        case = cases.get_case("case-1")
        assert audit.verify_chain(cases.list_events("case-1"), head=(case.audit_seq, case.audit_hash)).valid

    def test_concurrent_twin_events_register_one_version(self, cases, store):
        storage = InMemoryObjectStorage("docs")
        service = DocumentService(cases, store, storage, new_id=SequentialIds("doc"))
        ticket = service.request_upload(alice, "case-1", PDF)
        doc = ticket.document_id
        storage.post(ticket.upload.fields, b"only", "v1")
        results: list[dict] = []

        def deliver():
            results.append(service.on_s3_event(s3_event("case-1", doc, "v1", "01")))

        concurrently(*[deliver] * 4)
        assert sum(len(r["registered"]) for r in results) == 1
        assert sum(len(r["duplicates"]) for r in results) == 3
        assert len(store.list_versions("case-1", doc)) == 1
        uploads = [e for e in cases.list_events("case-1") if e.type == "DOCUMENT_UPLOADED"]
        assert len(uploads) == 1

    def test_objects_racing_under_one_grant_register_one_version(self, cases, store):
        storage = InMemoryObjectStorage("docs")
        service = DocumentService(cases, store, storage, new_id=SequentialIds("doc"))
        ticket = service.request_upload(alice, "case-1", PDF)
        doc = ticket.document_id
        for version in ("v1", "v2", "v3"):  # one form, three files
            storage.post(ticket.upload.fields, version.encode(), version)
        results: list[dict] = []
        barrier = threading.Barrier(3)

        def deliver(version: str, sequencer: str) -> None:
            barrier.wait()
            results.append(service.on_s3_event(s3_event("case-1", doc, version, sequencer)))

        threads = [threading.Thread(target=deliver, args=(v, f"0{i}")) for i, v in enumerate(("v1", "v2", "v3"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(len(r["registered"]) for r in results) == 1
        assert sum(len(r["rejected"]) for r in results) == 2
        assert len(service.get(alice, "case-1", doc).versions) == 1
        assert store.get_document("case-1", doc).open_grants == {}


@pytest.mark.parametrize("backend", ["dynamo"], indirect=True)
class TestDynamoDocuments:
    """What only DynamoDB has to get right."""

    def test_items_have_the_documented_keys(self, cases, store, dynamo_models, moto_endpoint):
        import boto3

        cases.apply(change(cases, documents=[DocumentWrite(a_document())], versions=[VersionWrite(a_version("v1"))]))
        hold = LegalHold(case_id="case-1", enabled=True, reason="r", revision=1)
        cases.apply(change(cases, hold=HoldWrite(hold, expected_revision=0)))
        table = boto3.resource("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1").Table(
            dynamo_models.case.Meta.table_name)
        keys = sorted(item["SK"] for item in table.query(
            KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": "CASE#case-1"})["Items"])
        assert [k for k in keys if not k.startswith(("EVENT#", "VIEWER#"))] == [  # VIEWER#: the case lists' copies
            "CASE", "DOC#doc-1", "DOCVER#doc-1#v1", "LEGALHOLD"]
        version = table.get_item(Key={"PK": "CASE#case-1", "SK": "DOCVER#doc-1#v1"})["Item"]
        assert version["status"] == "PENDING" and version["revision"] == 1

    def test_other_items_of_the_case_are_not_taken_for_documents(self, cases, store, dynamo_models, moto_endpoint):
        import boto3

        cases.apply(change(cases, documents=[DocumentWrite(a_document())], versions=[VersionWrite(a_version("v1"))]))
        boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1").put_item(
            TableName=dynamo_models.case.Meta.table_name,
            Item={"PK": {"S": "CASE#case-1"}, "SK": {"S": "DOCRESULT#doc-1#v1"}, "result": {"S": "{}"},
                  "status": {"S": "READY"}},  # the processor's own result item
        )
        documents, versions = store.list_documents("case-1")
        assert [d.id for d in documents] == ["doc-1"] and [v.version_id for v in versions] == ["v1"]
        assert [v.version_id for v in store.list_versions("case-1", "doc-1")] == ["v1"]

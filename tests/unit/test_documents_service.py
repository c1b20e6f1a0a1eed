"""The document service on the in-memory stores: upload requests, S3 events arriving twice and out of
order, processing results, downloads, soft deletion, legal hold and who may do what."""
from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qs, quote_plus, urlparse

import pytest

from chalicelib.adapters.memory.documents import InMemoryDocumentStore

from chalicelib.adapters.memory.storage import InMemoryObjectStorage
from chalicelib.domain import audit
from chalicelib.domain.changes import CaseChange
from chalicelib.domain.documents import (
    GRANT_GRACE_SECONDS, MAX_DOCUMENT_BYTES, MAX_OPEN_GRANTS, UPLOAD_EXPIRES_SECONDS, VersionStatus, object_key,
)
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from chalicelib.services.documents import DocumentService
from tests.support import FixedClock, SequentialIds, create_case, fields_of, new_case, principal

CONTENT = b"%PDF-1.7 evidence"
SHA = hashlib.sha256(CONTENT).hexdigest()
BUCKET = "docs"

alice = principal("alice", "caseworker", team="claims")
amy = principal("amy", "caseworker", team="claims")
bob = principal("bob", "caseworker", team="complaints")
sam = principal("sam", "supervisor", team="claims")
ada = principal("ada", "admin")
aud = principal("aud", "auditor")
ann = principal("ann", "approver")


class Started:
    """An on_version_registered callback that records its calls."""

    def __init__(self, answer: bool = True, fail: int = 0) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.answer, self.fail = answer, fail

    def __call__(self, case_id: str, document_id: str, version_id: str) -> bool:
        self.calls.append((case_id, document_id, version_id))
        if self.fail:
            self.fail -= 1
            raise RuntimeError("the document workflow is unavailable")
        return self.answer


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def setup(repo, clock):
    case, event = new_case("case-1", team="claims", required_documents=["claim-form", "proof-of-loss"])
    create_case(repo, case, event, None)
    other, other_event = new_case("case-2", team="claims")
    create_case(repo, other, other_event, None)
    store = InMemoryDocumentStore(repo)
    storage = InMemoryObjectStorage(BUCKET)
    started = Started(answer=False)
    service = DocumentService(
        repo, store, storage, clock=clock, new_id=SequentialIds("doc"), on_version_registered=started,
    )
    return service, store, storage, started


@pytest.fixture
def service(setup):
    return setup[0]


def upload_body(**overrides):
    return {"filename": "claim.pdf", "contentType": "application/pdf", "size": len(CONTENT), "sha256": SHA, **overrides}


def s3_event(case_id, document_id, version_id, sequencer, *, bucket=BUCKET, size=len(CONTENT)):
    key = quote_plus(object_key(case_id, document_id))
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Post",
        "eventTime": "2026-03-01T12:00:01.000Z",
        "s3": {"bucket": {"name": bucket}, "object": {
            "key": key, "size": size, "eTag": "etag-" + version_id, "versionId": version_id, "sequencer": sequencer,
        }},
    }]}


def post(service, ticket, version_id, content=CONTENT):
    """The browser's POST with an upload form: the storage keeps a version with the form's metadata."""
    service._storage.post(ticket.upload.fields, content, version_id)


def events_of(repo, case_id="case-1", prefix="DOCUMENT"):
    return [e for e in repo.list_events(case_id) if e.type.startswith(prefix)]


def chain_is_valid(repo, case_id="case-1"):
    case = repo.get_case(case_id)
    return audit.verify_chain(repo.list_events(case_id), head=(case.audit_seq, case.audit_hash)).valid


# -- upload requests ------------------------------------------------------------------------------


def test_an_upload_request_creates_a_pending_document_and_a_form_for_a_server_key(service, repo, setup):
    _, store, storage, _ = setup
    ticket = service.request_upload(alice, "case-1", upload_body(filename="../../secret/claim.pdf", kind="claim-form"))
    assert ticket.document_id == "doc-0001" and ticket.expires_in == 600 and ticket.max_size == len(CONTENT)
    assert ticket.upload.fields["key"] == "cases/case-1/documents/doc-0001"
    assert ticket.upload.fields["Content-Type"] == "application/pdf"
    assert ticket.upload.fields["x-amz-meta-sha256"] == SHA
    assert storage.forms[-1]["maxSize"] == len(CONTENT)
    document = service.get(alice, "case-1", "doc-0001")
    assert (document.status, document.filename, document.kind, document.versions) == (
        VersionStatus.PENDING, "claim.pdf", "claim-form", [],
    )
    (event,) = events_of(repo)
    assert event.type == "DOCUMENT_UPLOAD_REQUESTED" and event.actor == "alice"
    assert event.data["filename"] == "claim.pdf" and event.data["sha256"] == SHA
    assert chain_is_valid(repo)


@pytest.mark.parametrize("body, error, field", [
    (upload_body(contentType="application/x-msdownload"), InvalidInput, "contentType"),
    (upload_body(contentType="text/html"), InvalidInput, "contentType"),
    (upload_body(size=MAX_DOCUMENT_BYTES + 1), PayloadTooLarge, "size"),
    (upload_body(size=0), InvalidInput, "size"),
    (upload_body(filename="../"), InvalidInput, "filename"),
    (upload_body(filename="\x00\u202e"), InvalidInput, "filename"),
    (upload_body(filename=""), InvalidInput, "filename"),
    (upload_body(sha256="abc"), InvalidInput, "sha256"),
    (upload_body(kind="passport"), InvalidInput, "kind"),
    ({**upload_body(), "key": "cases/other/documents/x"}, InvalidInput, "key"),
])
def test_bad_upload_requests_are_refused_and_write_nothing(service, repo, body, error, field):
    with pytest.raises(error) as caught:
        service.request_upload(alice, "case-1", body)
    assert field in fields_of(caught.value)
    assert events_of(repo) == [] and service.list(alice, "case-1").items == []


def test_the_allowed_types_and_the_largest_size_are_accepted(service):
    for content_type in ("application/pdf", "image/png", "image/jpeg", "text/plain", "application/zip"):
        service.request_upload(alice, "case-1", upload_body(contentType=content_type, size=MAX_DOCUMENT_BYTES))


def test_a_new_version_is_a_form_for_the_same_key(service, repo):
    first = service.request_upload(alice, "case-1", upload_body(kind="claim-form"))
    body = upload_body(filename="claim v2.pdf", sha256=None)
    again = service.request_new_version(amy, "case-1", first.document_id, body)
    assert again.document_id == first.document_id
    assert again.upload.fields["key"] == first.upload.fields["key"]
    assert "x-amz-meta-sha256" not in again.upload.fields
    assert len(service.list(alice, "case-1").items) == 1  # no duplicate document
    with pytest.raises(InvalidInput):  # a version keeps its document's kind
        service.request_new_version(alice, "case-1", first.document_id, upload_body(kind="proof-of-loss"))
    with pytest.raises(NotFound):
        service.request_new_version(alice, "case-1", "doc-9999", upload_body())
    assert [e.data.get("newVersion") for e in events_of(repo)] == [None, True]


# -- the S3 event ---------------------------------------------------------------------------------


def test_an_s3_event_registers_the_version_and_appends_the_custody_event(setup, repo):
    service, store, _, started = setup
    ticket = service.request_upload(alice, "case-1", upload_body(kind="claim-form"))
    doc = ticket.document_id
    post(service, ticket, "v1")
    report = service.on_s3_event(s3_event("case-1", doc, "v1", "0055AED6DCD90281E5"))
    assert report == {"registered": [f"case-1/{doc}/v1"], "duplicates": [], "ignored": [], "rejected": []}
    detail = service.get(alice, "case-1", doc)
    assert detail.latest_version_id == "v1" and detail.version_count == 1 and detail.status == VersionStatus.PENDING
    (version,) = detail.versions
    assert (version.size, version.e_tag, version.declared_sha256, version.requested_by, version.latest) == (
        len(CONTENT), "etag-v1", SHA, "alice", True,
    )
    uploaded = events_of(repo)[-1]
    assert uploaded.type == "DOCUMENT_UPLOADED" and uploaded.actor == "system"
    assert (uploaded.data["key"], uploaded.data["versionId"], uploaded.data["size"], uploaded.data["eTag"]) == (
        object_key("case-1", doc), "v1", len(CONTENT), "etag-v1",
    )
    assert started.calls == [("case-1", doc, "v1")]
    assert chain_is_valid(repo)


def test_duplicate_events_register_one_version(setup, repo):
    service, store, _, _ = setup
    ticket = service.request_upload(alice, "case-1", upload_body())
    doc = ticket.document_id
    post(service, ticket, "v1")
    event = s3_event("case-1", doc, "v1", "0A")
    service.on_s3_event(event)
    report = service.on_s3_event(event)
    assert report["registered"] == [] and report["duplicates"] == [f"case-1/{doc}/v1"]
    assert len(store.list_versions("case-1", doc)) == 1
    assert [e.type for e in events_of(repo)].count("DOCUMENT_UPLOADED") == 1
    assert service.get(alice, "case-1", doc).version_count == 1


def test_an_older_event_arriving_late_does_not_become_the_latest(setup, repo):
    service, store, _, _ = setup
    ticket = service.request_upload(alice, "case-1", upload_body())
    doc = ticket.document_id
    post(service, ticket, "v1")
    for version in ("v2", "v3"):  # each version is posted with its own upload form
        post(service, service.request_new_version(alice, "case-1", doc, upload_body()), version)
    service.on_s3_event(s3_event("case-1", doc, "v2", "100"))  # newer; longer hex
    service.on_s3_event(s3_event("case-1", doc, "v1", "FF"))  # older, arriving late
    service.on_s3_event(s3_event("case-1", doc, "v2", "100"))  # and the newer one again
    detail = service.get(alice, "case-1", doc)
    assert detail.latest_version_id == "v2" and detail.version_count == 2
    assert [v.version_id for v in detail.versions] == ["v1", "v2"]  # oldest first, by sequencer
    assert [v.latest for v in detail.versions] == [False, True]
    assert [e.data["latest"] for e in events_of(repo) if e.type == "DOCUMENT_UPLOADED"] == [True, False]
    service.on_s3_event(s3_event("case-1", doc, "v3", "101"))
    assert service.get(alice, "case-1", doc).latest_version_id == "v3"


def test_records_that_are_not_ours_are_ignored(service, repo):
    doc = service.request_upload(alice, "case-1", upload_body()).document_id
    foreign_bucket = s3_event("case-1", doc, "v1", "01", bucket="elsewhere")
    unknown_document = s3_event("case-1", "doc-9999", "v1", "01")
    unknown_case = s3_event("case-9", doc, "v1", "01")
    no_version = s3_event("case-1", doc, "v1", "01")
    del no_version["Records"][0]["s3"]["object"]["versionId"]
    other_key = s3_event("case-1", doc, "v1", "01")
    other_key["Records"][0]["s3"]["object"]["key"] = "exports/report.csv"
    for event in (foreign_bucket, unknown_document, unknown_case, no_version, other_key, {"Records": []}, {}):
        report = service.on_s3_event(event)
        assert report["registered"] == []
    assert [e.type for e in events_of(repo)] == ["DOCUMENT_UPLOAD_REQUESTED"]


def test_processing_starts_once_the_callback_says_so_and_a_failed_start_is_retried(setup, repo):
    service, store, _, started = setup
    started.answer, started.fail = True, 1
    ticket = service.request_upload(alice, "case-1", upload_body())
    doc = ticket.document_id
    post(service, ticket, "v1")
    event = s3_event("case-1", doc, "v1", "01")
    with pytest.raises(RuntimeError):  # the Lambda fails: S3 delivers the event again
        service.on_s3_event(event)
    assert store.get_version("case-1", doc, "v1").status == VersionStatus.PENDING  # registered all the same
    service.on_s3_event(event)  # the re-delivery starts processing
    assert store.get_version("case-1", doc, "v1").status == VersionStatus.PROCESSING
    service.on_s3_event(event)  # a version already processing is not started again
    assert len(started.calls) == 2
    assert "DOCUMENT_PROCESSING_STARTED" in [e.type for e in events_of(repo)]


# -- processing results and the DOCUMENTS condition -----------------------------------------------


def _uploaded(service, kind=None, version="v1", sequencer="01", by=alice, doc=None):
    """A document (or a new version of `doc`) requested, posted with its form and registered."""
    if doc is None:
        ticket = service.request_upload(by, "case-1", upload_body(kind=kind))
    else:
        ticket = service.request_new_version(by, "case-1", doc, upload_body())
    post(service, ticket, version)
    service.on_s3_event(s3_event("case-1", ticket.document_id, version, sequencer))
    return ticket.document_id


def test_a_processing_result_is_recorded_once(setup, repo):
    service, store, _, _ = setup
    processed: list[str] = []
    service.on_version_processed = processed.append
    doc = _uploaded(service, "claim-form")
    result = {"status": "READY", "sha256": SHA, "size": len(CONTENT), "metadata": {"pages": 1}}
    version = service.record_processing_result("case-1", doc, "v1", result)
    assert (version.status, version.sha256, version.metadata) == (VersionStatus.READY, SHA, {"pages": 1})
    again = service.record_processing_result("case-1", doc, "v1", {"status": "QUARANTINED", "reasons": ["late"]})
    assert again.status == VersionStatus.READY  # the first verdict stays
    verified = [e for e in events_of(repo) if e.type == "DOCUMENT_VERIFIED"]
    assert len(verified) == 1 and verified[0].data["sha256"] == SHA and verified[0].data["versionId"] == "v1"
    assert processed == ["case-1"]
    assert service.get(alice, "case-1", doc).status == VersionStatus.READY
    with pytest.raises(NotFound):
        service.record_processing_result("case-1", doc, "v404", result)


def test_a_hash_mismatch_or_a_verdict_quarantines_with_reasons(service, repo):
    doc = _uploaded(service)
    version = service.record_processing_result("case-1", doc, "v1", {"status": "READY", "sha256": "0" * 64})
    assert version.status == VersionStatus.QUARANTINED and "declared" in version.reasons[0]
    other = _uploaded(service)
    verdict = {"status": "QUARANTINED", "sha256": SHA, "reasons": ["executable content in a .pdf"]}
    assert service.record_processing_result("case-1", other, "v1", verdict).reasons == ["executable content in a .pdf"]
    quarantined = [e for e in events_of(repo) if e.type == "DOCUMENT_QUARANTINED"]
    assert len(quarantined) == 2 and quarantined[1].data["reasons"] == ["executable content in a .pdf"]
    assert quarantined[1].data["sha256"] == SHA
    assert chain_is_valid(repo)


def test_required_documents_are_ready_when_each_kind_has_a_ready_latest_version(service, repo):
    case = repo.get_case("case-1")
    ready = {"status": "READY", "sha256": SHA}
    assert not service.required_documents_ready(case)
    form = _uploaded(service, "claim-form")
    service.record_processing_result("case-1", form, "v1", ready)
    assert service.required_documents_status(case) == {"ready": ["claim-form"], "missing": ["proof-of-loss"]}
    loss = _uploaded(service, "proof-of-loss")
    assert not service.required_documents_ready(case)  # uploaded but not processed
    service.record_processing_result("case-1", loss, "v1", {"status": "QUARANTINED", "reasons": ["bad"]})
    assert not service.required_documents_ready(case)
    _uploaded(service, doc=loss, version="v2", sequencer="02")  # a new version of it
    service.record_processing_result("case-1", loss, "v2", ready)
    assert service.required_documents_ready(case)
    _uploaded(service, doc=loss, version="v3", sequencer="03")  # a newer version, not yet processed
    assert not service.required_documents_ready(case)
    service.record_processing_result("case-1", loss, "v3", ready)
    assert service.required_documents_ready(case)
    service.delete(ada, "case-1", loss)  # a deleted document no longer counts
    assert not service.required_documents_ready(case)
    assert service.required_documents_ready(repo.get_case("case-2"))  # requires none


# -- downloads ------------------------------------------------------------------------------------


def test_a_download_names_the_version_and_is_recorded(service, repo):
    doc = _uploaded(service)
    _uploaded(service, doc=doc, version="v2", sequencer="02")
    for version in ("v1", "v2"):  # only verified versions are downloaded
        service.record_processing_result("case-1", doc, version, {"status": "READY", "sha256": SHA})
    link = service.download(aud, "case-1", doc)
    assert link.version_id == "v2" and link.expires_in == 300
    query = parse_qs(urlparse(link.url).query)
    assert query["versionId"] == ["v2"] and query["response-content-type"] == ["application/pdf"]
    assert query["response-content-disposition"][0].startswith('attachment; filename="claim.pdf"')
    assert service.download(alice, "case-1", doc, "v1").version_id == "v1"
    downloads = [e for e in events_of(repo) if e.type == "DOCUMENT_DOWNLOADED"]
    assert [(e.actor, e.data["by"], e.data["versionId"]) for e in downloads] == [
        ("aud", "aud", "v2"), ("alice", "alice", "v1")]
    with pytest.raises(NotFound):
        service.download(alice, "case-1", doc, "v404")
    with pytest.raises(InvalidInput):
        service.download(alice, "case-1", doc, "bad\nid")
    empty = service.request_upload(alice, "case-1", upload_body()).document_id
    with pytest.raises(Conflict):
        service.download(alice, "case-1", empty)
    assert chain_is_valid(repo)


def test_a_version_not_yet_verified_is_never_downloaded(service, repo, setup):
    _, store, _, _ = setup
    doc = _uploaded(service)
    for user in (alice, sam, aud, ada):  # PENDING: not even an admin
        with pytest.raises(Conflict, match="PENDING") as caught:
            service.download(user, "case-1", doc)
        assert "versionId" in fields_of(caught.value)
    service.mark_processing("case-1", doc, "v1")
    assert store.get_version("case-1", doc, "v1").status == VersionStatus.PROCESSING
    for call in (lambda: service.download(ada, "case-1", doc), lambda: service.download(alice, "case-1", doc, "v1")):
        with pytest.raises(Conflict, match="PROCESSING"):
            call()
    assert [e for e in events_of(repo) if e.type == "DOCUMENT_DOWNLOADED"] == []  # a refusal records nothing
    service.record_processing_result("case-1", doc, "v1", {"status": "READY", "sha256": SHA})
    assert service.download(alice, "case-1", doc).version_id == "v1"


def test_a_quarantined_version_is_downloaded_by_admins_only(service, repo):
    doc = _uploaded(service)
    service.record_processing_result("case-1", doc, "v1", {"status": "QUARANTINED", "reasons": ["zip bomb"]})
    for user in (alice, sam, aud):
        with pytest.raises(Conflict, match="zip bomb"):
            service.download(user, "case-1", doc)
    assert service.download(ada, "case-1", doc).version_id == "v1"
    (download,) = [e for e in events_of(repo) if e.type == "DOCUMENT_DOWNLOADED"]
    assert download.actor == "ada" and download.data["quarantineOverride"] is True


# -- who may do what ------------------------------------------------------------------------------


def test_another_teams_caseworker_sees_nothing_of_the_case(service):
    doc = _uploaded(service)
    for call in (
        lambda: service.list(bob, "case-1").items,
        lambda: service.get(bob, "case-1", doc),
        lambda: service.download(bob, "case-1", doc),
        lambda: service.download(bob, "case-1", doc, "v1"),
        lambda: service.request_upload(bob, "case-1", upload_body()),
        lambda: service.request_new_version(bob, "case-1", doc, upload_body()),
        lambda: service.legal_hold(bob, "case-1"),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(NotFound):
        service.get(alice, "case-2", doc)  # a document is found only under its own case


def test_roles_read_and_upload_as_allowed(service):
    doc = _uploaded(service)
    assert [d.id for d in service.list(aud, "case-1").items] == [doc]  # auditors read
    service.request_upload(sam, "case-1", upload_body())  # supervisors of the team upload
    service.request_upload(ada, "case-1", upload_body())
    for user in (aud, ann):
        with pytest.raises(Forbidden):
            service.request_upload(user, "case-1", upload_body())
        with pytest.raises(Forbidden):
            service.request_new_version(user, "case-1", doc, upload_body())
    for user in (alice, sam, aud):
        with pytest.raises(Forbidden):
            service.delete(user, "case-1", doc)
        with pytest.raises(Forbidden):
            service.set_legal_hold(user, "case-1", {"enabled": True, "reason": "litigation"})


# -- deletion and legal hold ----------------------------------------------------------------------


def test_deletion_is_soft_and_hides_the_document_from_case_workers(setup, repo):
    service, store, _, _ = setup
    doc = _uploaded(service)
    deleted = service.delete(ada, "case-1", doc)
    assert deleted.deleted and deleted.deleted_by == "ada"
    assert len(store.list_versions("case-1", doc)) == 1  # versions kept
    assert service.list(alice, "case-1").items == []
    with pytest.raises(NotFound):
        service.get(alice, "case-1", doc)
    with pytest.raises(NotFound):
        service.download(alice, "case-1", doc)
    assert [d.deleted for d in service.list(aud, "case-1").items] == [True]  # auditors still see it, marked
    assert service.get(ada, "case-1", doc).versions[0].version_id == "v1"
    with pytest.raises(Conflict):
        service.request_new_version(ada, "case-1", doc, upload_body())
    assert service.delete(ada, "case-1", doc).deleted  # again: nothing changes
    (event,) = [e for e in events_of(repo) if e.type == "DOCUMENT_DELETED"]
    assert event.data["versionsKept"] == ["v1"]


def test_legal_hold_blocks_deletion_and_holds_every_version(setup, repo):
    service, store, storage, _ = setup
    doc = _uploaded(service)
    _uploaded(service, doc=doc, version="v2", sequencer="02")
    with pytest.raises(InvalidInput):
        service.set_legal_hold(ada, "case-1", {"enabled": True})  # a hold needs a reason
    held = service.set_legal_hold(ada, "case-1", {"enabled": True, "reason": "litigation 42"})
    assert held.enabled and held.reason == "litigation 42" and held.object_lock["applied"] == 2
    key = object_key("case-1", doc)
    assert storage.legal_holds == {(key, "v1"): True, (key, "v2"): True}
    with pytest.raises(Conflict, match="legal hold"):
        service.delete(ada, "case-1", doc)
    _uploaded(service, doc=doc, version="v3", sequencer="03")  # uploaded while held: held too
    assert storage.legal_holds[(key, "v3")] is True
    assert service.legal_hold(aud, "case-1").enabled
    service.set_legal_hold(ada, "case-1", {"enabled": True, "reason": "litigation 42"})  # the same: no new event
    released = service.set_legal_hold(ada, "case-1", {"enabled": False})
    assert not released.enabled and set(storage.legal_holds.values()) == {False}
    assert service.delete(ada, "case-1", doc).deleted
    types = [e.type for e in repo.list_events("case-1") if e.type.startswith("LEGAL_HOLD")]
    assert types == ["LEGAL_HOLD_SET", "LEGAL_HOLD_RELEASED"]
    assert chain_is_valid(repo)


def test_without_object_lock_the_hold_is_recorded_and_still_blocks_deletion(setup):
    service, _, storage, _ = setup
    storage.object_lock = False
    doc = _uploaded(service)
    held = service.set_legal_hold(ada, "case-1", {"enabled": True, "reason": "audit"})
    assert held.enabled and held.object_lock["skipped"] and storage.legal_holds == {}
    with pytest.raises(Conflict):
        service.delete(ada, "case-1", doc)


def test_a_hold_set_between_the_check_and_the_write_still_wins(setup, repo):
    service, store, _, _ = setup
    doc = _uploaded(service)
    original = store.get_legal_hold
    calls = {"n": 0}

    def stale_hold(case_id):  # the service reads "no hold", then an admin sets one before the write
        calls["n"] += 1
        hold = original(case_id)
        if calls["n"] == 1:
            service.set_legal_hold(ada, "case-1", {"enabled": True, "reason": "race"})
        return hold

    store.get_legal_hold = stale_hold
    with pytest.raises(Conflict, match="legal hold"):
        service.delete(ada, "case-1", doc)
    assert not store.get_document("case-1", doc).deleted


# -- evidence exports -----------------------------------------------------------------------------


def _ready(service, kind=None):
    doc = _uploaded(service, kind)
    service.record_processing_result("case-1", doc, "v1", {"status": "READY", "sha256": SHA, "size": len(CONTENT)})
    return doc


def test_an_export_hands_over_ready_versions_with_a_manifest_chained_into_the_history(setup, repo):
    service, _, storage, _ = setup
    form = _ready(service, "claim-form")
    pending = _uploaded(service)  # uploaded, not processed
    quarantined = _uploaded(service)
    service.record_processing_result("case-1", quarantined, "v1", {"status": "QUARANTINED", "reasons": ["macro"]})
    head_before = repo.get_case("case-1")

    export = service.export(sam, "case-1", {"reason": "court disclosure 2026/17"})

    assert [(d.document_id, d.version_id, d.sha256, d.kind) for d in export.documents] == [
        (form, "v1", SHA, "claim-form")]
    assert "versionId=v1" in export.documents[0].url
    assert {e.document_id: e.reason for e in export.excluded} == {
        pending: "not processed yet (PENDING)", quarantined: "quarantined: macro"}
    (body,) = storage.objects[export.manifest_key]
    assert export.manifest_key.startswith("exports/case-1/")
    assert hashlib.sha256(body).hexdigest() == export.manifest_sha256
    manifest = json.loads(body)
    assert manifest["historyHead"] == {"seq": head_before.audit_seq, "hash": head_before.audit_hash}
    assert [d["sha256"] for d in manifest["documents"]] == [SHA] and manifest["reason"] == "court disclosure 2026/17"
    event = events_of(repo)[-1]
    assert event.type == "DOCUMENTS_EXPORTED" and event.actor == "sam"
    assert event.data["manifestSha256"] == export.manifest_sha256 and event.data["by"] == "sam"
    assert event.data["versions"] == [{"documentId": form, "versionId": "v1", "sha256": SHA}]
    assert chain_is_valid(repo)


def test_an_export_of_named_documents_only(service):
    first, second = _ready(service), _ready(service)
    export = service.export(aud, "case-1", {"reason": "regulator", "documentIds": [second, second]})
    assert [d.document_id for d in export.documents] == [second] and export.excluded == []
    assert first != second


@pytest.mark.parametrize("body, field", [
    ({}, "reason"),
    ({"reason": ""}, "reason"),
    ({"reason": "x" * 501}, "reason"),
    ({"reason": "ok", "documentIds": []}, "documentIds"),
    ({"reason": "ok", "documentIds": ["doc-9999"]}, "documentIds[0]"),
    ({"reason": "ok", "to": "court"}, "to"),
])
def test_bad_export_requests_are_refused_and_record_nothing(setup, repo, body, field):
    service, _, storage, _ = setup
    _ready(service)
    before = len(repo.list_events("case-1"))
    with pytest.raises(InvalidInput) as caught:
        service.export(sam, "case-1", body)
    assert field in fields_of(caught.value)
    assert len(repo.list_events("case-1")) == before and storage.objects == {}


def test_an_export_with_nothing_processed_is_a_conflict_naming_why(setup, repo):
    service, _, storage, _ = setup
    doc = _uploaded(service)
    with pytest.raises(Conflict) as caught:
        service.export(sam, "case-1", {"reason": "court"})
    assert f"documents.{doc}" in fields_of(caught.value) and storage.objects == {}


def test_who_may_export(service):
    _ready(service)
    for user in (alice, ann):
        with pytest.raises(Forbidden):
            service.export(user, "case-1", {"reason": "court"})
    with pytest.raises(NotFound):  # a supervisor of another team does not see the case
        service.export(principal("sue", "supervisor", team="complaints"), "case-1", {"reason": "court"})
    assert service.export(ada, "case-1", {"reason": "court"}).documents


def test_the_processor_container_gets_the_version_and_the_workflow_execution_to_log(setup):
    from chalicelib.adapters.memory.results import InMemoryProcessingResults
    from chalicelib.services.document_processing import DocumentProcessing

    service = setup[0]
    doc = _uploaded(service, "claim-form")
    processing = DocumentProcessing(service, None, InMemoryProcessingResults(), MAX_DOCUMENT_BYTES)
    execution = "arn:aws:states:us-east-1:1:execution:cms-documents:run-1"
    environment = {e["Name"]: e["Value"] for e in processing.prepare("case-1", doc, "v1", execution)["environment"]}
    assert (environment["CASE_ID"], environment["DOCUMENT_ID"], environment["VERSION_ID"]) == ("case-1", doc, "v1")
    assert environment["EXECUTION_ID"] == execution
    assert "EXECUTION_ID" not in {e["Name"] for e in processing.prepare("case-1", doc, "v1")["environment"]}


def test_each_verdict_is_counted_once_as_a_business_metric(setup):
    from chalicelib import metrics

    service = setup[0]
    ready, bad = _uploaded(service, "claim-form"), _uploaded(service, "proof-of-loss", version="v2", sequencer="02")
    metrics.metrics.clear_metrics()
    service.record_processing_result("case-1", ready, "v1", {"status": "READY", "sha256": SHA, "size": len(CONTENT)})
    service.record_processing_result("case-1", ready, "v1", {"status": "READY", "sha256": SHA, "size": len(CONTENT)})
    service.record_processing_result("case-1", bad, "v2", {"status": "QUARANTINED", "reasons": ["macro"]})
    counted = {name: sum(m["Value"]) for name, m in metrics.metrics.metric_set.items()}
    metrics.metrics.clear_metrics()
    assert counted == {metrics.DOCUMENTS_PROCESSED: 1, metrics.DOCUMENTS_QUARANTINED: 1}


# -- upload grants: one form, one version ---------------------------------------------------------


def test_a_second_object_posted_with_the_same_form_is_rejected_and_never_processed(setup, repo):
    service, store, _, started = setup
    started.answer = True
    ticket = service.request_upload(alice, "case-1", upload_body(kind="claim-form"))
    doc = ticket.document_id
    post(service, ticket, "v1")
    assert service.on_s3_event(s3_event("case-1", doc, "v1", "01"))["registered"] == [f"case-1/{doc}/v1"]
    post(service, ticket, "v2", content=b"MZ\x90\x00 slipped in")  # the insider re-uses the form
    report = service.on_s3_event(s3_event("case-1", doc, "v2", "02"))
    assert report["registered"] == [] and report["rejected"] == [
        f"case-1/{doc}/v2: upload grant {ticket.upload.fields['x-amz-meta-grant-id']} was already used (or never "
        "issued for this document)"]
    assert service.on_s3_event(s3_event("case-1", doc, "v2", "02"))["rejected"] == report["rejected"]  # again
    assert started.calls == [("case-1", doc, "v1")]  # the second object never starts processing
    detail = service.get(ada, "case-1", doc)
    assert [v.version_id for v in detail.versions] == ["v1"] and detail.latest_version_id == "v1"
    assert detail.version_count == 1
    rejected = store.get_version("case-1", doc, "v2")
    assert rejected.rejected and rejected.status == VersionStatus.PENDING  # kept as evidence of the attempt
    (event,) = [e for e in events_of(repo) if e.type == "DOCUMENT_UPLOAD_REJECTED"]
    assert event.actor == "system" and event.data["versionId"] == "v2"
    assert event.data["grantId"] == ticket.upload.fields["x-amz-meta-grant-id"]
    verdict = service.record_processing_result("case-1", doc, "v2", {"status": "READY", "sha256": SHA})
    assert verdict.rejected and verdict.status == VersionStatus.PENDING  # no verdict for a rejected upload
    with pytest.raises(Conflict, match="rejected"):
        service.download(ada, "case-1", doc, "v2")
    assert chain_is_valid(repo)


def test_every_form_is_single_use_whatever_order_its_events_arrive_in(setup):
    service, store, _, _ = setup
    first = service.request_upload(alice, "case-1", upload_body())
    doc = first.document_id
    second = service.request_new_version(amy, "case-1", doc, upload_body())  # two forms open at once
    assert first.upload.fields["x-amz-meta-grant-id"] != second.upload.fields["x-amz-meta-grant-id"]
    post(service, first, "v1")
    post(service, second, "v2")
    service.on_s3_event(s3_event("case-1", doc, "v2", "02"))
    service.on_s3_event(s3_event("case-1", doc, "v1", "01"))  # the older form's object, arriving late
    assert [v.version_id for v in service.get(alice, "case-1", doc).versions] == ["v1", "v2"]
    assert store.get_document("case-1", doc).open_grants == {}


def test_an_object_without_a_grant_of_its_document_is_rejected(setup):
    service, store, storage, _ = setup
    one = service.request_upload(alice, "case-1", upload_body())
    other = service.request_upload(alice, "case-1", upload_body())
    borrowed = {**one.upload.fields, "key": other.upload.fields["key"]}  # one document's form, another's key
    storage.post(borrowed, CONTENT, "v1")
    storage.post({"key": one.upload.fields["key"]}, CONTENT, "v9")  # no form at all
    report = service.on_s3_event(s3_event("case-1", other.document_id, "v1", "01"))
    assert report["rejected"] and "already used (or never issued" in report["rejected"][0]
    report = service.on_s3_event(s3_event("case-1", one.document_id, "v9", "01"))
    assert report["rejected"] == [f"case-1/{one.document_id}/v9: the object carries no upload grant"]
    assert [d.version_count for d in service.list(alice, "case-1").items] == [0, 0]


def test_no_grant_for_a_deleted_document_or_a_closed_case(setup, repo):
    service, store, _, _ = setup
    ticket = service.request_upload(alice, "case-1", upload_body())
    doc = ticket.document_id
    service.delete(ada, "case-1", doc)
    with pytest.raises(Conflict, match="deleted"):
        service.request_new_version(ada, "case-1", doc, upload_body())
    post(service, ticket, "v1")  # a form given out before the deletion
    report = service.on_s3_event(s3_event("case-1", doc, "v1", "01"))
    assert report["rejected"] == [f"case-1/{doc}/v1: the document was deleted"]

    closed, event = new_case("case-3", team="claims", status="CLOSED")
    create_case(repo, closed, event, None)
    for call in (
        lambda: service.request_upload(alice, "case-3", upload_body()),
        lambda: service.request_new_version(alice, "case-3", doc, upload_body()),
    ):
        with pytest.raises(Conflict, match="closed"):
            call()
    assert events_of(repo, "case-3") == []


def test_a_form_given_out_before_the_case_closed_is_rejected(setup, repo):
    service, _, _, started = setup
    ticket = service.request_upload(alice, "case-1", upload_body())
    change = CaseChange(repo.get_case("case-1"), "system", "2026-03-02T12:00:00.000Z")
    change.move(status="CLOSED")
    change.append("CASE_CLOSED", {})
    repo.apply(change)
    post(service, ticket, "v1")
    report = service.on_s3_event(s3_event("case-1", ticket.document_id, "v1", "01"))
    assert report["rejected"] == [f"case-1/{ticket.document_id}/v1: the case is closed"]
    assert started.calls == []


def test_unused_forms_are_bounded_per_document(setup, clock):
    service, store, _, _ = setup
    doc = service.request_upload(alice, "case-1", upload_body()).document_id
    for _ in range(MAX_OPEN_GRANTS - 1):
        service.request_new_version(alice, "case-1", doc, upload_body())
    with pytest.raises(Conflict, match="unused upload forms"):
        service.request_new_version(alice, "case-1", doc, upload_body())
    clock.advance(seconds=UPLOAD_EXPIRES_SECONDS + GRANT_GRACE_SECONDS + 1)  # expired forms are forgotten
    service.request_new_version(alice, "case-1", doc, upload_body())
    assert len(store.get_document("case-1", doc).open_grants) == 1

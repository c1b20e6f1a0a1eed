"""Document rules without any store: file names, object keys, S3 event records, sequencer order, and how a
processing result is read."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote_plus

import pytest

from chalicelib.domain.clock import iso
from chalicelib.domain.documents import (
    GRANT_GRACE_SECONDS, MAX_OPEN_GRANTS, DocumentRecord, InvalidFilename, UploadRequest, VersionRecord,
    VersionStatus, ascii_filename, content_disposition, detail_view, document_view, grant_refusal, grants_with,
    is_newer, object_created_records, object_key, parse_object_key, processing_outcome, sanitise_filename,
)

SHA = "a" * 64


# -- file names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("report.pdf", "report.pdf"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\evil.dll", "evil.dll"),
    ("/absolute/path/scan.png", "scan.png"),
    ("a/\x00../b.txt", "b.txt"),  # a NUL cannot hide a path separator
    ("invoice\x00.pdf.exe", "invoice.pdf.exe"),
    ("photo\u202egpj.exe", "photogpj.exe"),  # RIGHT-TO-LEFT OVERRIDE would show "photoexe.jpg"
    ("\u2066name\u2069.pdf", "name.pdf"),  # bidi isolates
    ("zero\u200bwidth.txt", "zerowidth.txt"),
    ("line\r\nbreak.txt", "line break.txt"),
    ("tab\there.txt", "tab here.txt"),
    ('what"is<this>?.pdf', "what_is_this__.pdf"),
    ("  spaced   out .pdf  ", "spaced out .pdf"),
    ("trailing dots...", "trailing dots"),
    ("re\u0301sume\u0301.pdf", "résumé.pdf"),  # NFC
    (".hidden", ".hidden"),
])
def test_names_are_sanitised(raw, expected):
    assert sanitise_filename(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "..", "../", "....", "a/..", "dir/", "\x00\x01\x02", "\u202e", "\r\n", "/"])
def test_names_empty_after_sanitising_are_refused(raw):
    with pytest.raises(InvalidFilename):
        sanitise_filename(raw)


def test_long_names_are_cut_to_255_bytes_keeping_the_extension():
    name = sanitise_filename("x" * 300 + ".pdf")
    assert len(name.encode()) == 255 and name.endswith(".pdf")


def test_long_multibyte_names_are_never_cut_inside_a_character():
    name = sanitise_filename("é" * 200 + ".jpeg")  # 2 bytes each
    encoded = name.encode("utf-8")
    assert len(encoded) <= 255 and name.endswith(".jpeg") and set(name[:-5]) == {"é"}
    name = sanitise_filename("\U0001F600" * 100)  # 4 bytes each, no extension
    assert len(name.encode()) <= 255 and set(name) == {"\U0001F600"}


def test_a_255_byte_name_is_kept_whole():
    raw = "y" * 251 + ".txt"
    assert sanitise_filename(raw) == raw


def test_content_disposition_has_an_ascii_fallback_and_the_exact_name_encoded():
    header = content_disposition("Résumé \"final\";.pdf")
    assert header.startswith('attachment; filename="')
    fallback = header.split('filename="')[1].split('"')[0]
    assert fallback.isascii() and '"' not in fallback and ";" not in fallback
    assert header.endswith("filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22%3B.pdf")
    assert header.isascii() and "\r" not in header and "\n" not in header


@pytest.mark.parametrize("name, expected", [("报告.pdf", "pdf"), ("日本", "download"), ("café.txt", "cafe.txt")])
def test_ascii_fallback(name, expected):
    assert ascii_filename(name) == expected


# -- keys and events ------------------------------------------------------------------------------


def test_object_keys_are_generated_and_parsed_back():
    key = object_key("case-1", "doc-1")
    assert key == "cases/case-1/documents/doc-1"
    assert parse_object_key(key) == ("case-1", "doc-1")


@pytest.mark.parametrize("key", [
    "cases/c/documents/d/extra", "cases/../documents/d", "other/c/documents/d", "cases/c/documents/", "cases/c/docs/d",
    "cases/c/documents/d\n",
])
def test_foreign_keys_are_not_documents(key):
    assert parse_object_key(key) is None


def _record(key: str, **obj) -> dict:
    return {
        "eventSource": "aws:s3", "eventName": "ObjectCreated:Post", "eventTime": "2026-03-01T12:00:00.000Z",
        "s3": {"bucket": {"name": "docs"}, "object": {"key": key, "size": 10, "eTag": "abc", **obj}},
    }


def test_s3_records_are_decoded():
    records, skipped = object_created_records({"Records": [
        _record(quote_plus("cases/c 1/documents/d+1"), versionId="v1", sequencer="00AB"),
    ]})
    assert skipped == []
    (record,) = records
    assert (record.key, record.version_id, record.sequencer, record.size, record.etag) == (
        "cases/c 1/documents/d+1", "v1", "00AB", 10, "abc",
    )


def test_other_records_are_skipped_with_a_reason():
    records, skipped = object_created_records({"Records": [
        {"eventSource": "aws:dynamodb", "eventName": "INSERT"},
        {**_record("k"), "eventName": "ObjectRemoved:Delete"},
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {}},
        _record("k", sequencer="not hex"),
    ]})
    assert len(skipped) == 3 and len(records) == 1
    assert records[0].sequencer is None and records[0].version_id is None  # an invalid sequencer is no sequencer
    assert object_created_records({}) == ([], [])
    assert object_created_records({"Records": "nope"}) == ([], [])


@pytest.mark.parametrize("candidate, current, newer", [
    ("0055AED6DCD90281E5", "0055AED6DCD90281E4", True),
    ("0055AED6DCD90281E4", "0055AED6DCD90281E5", False),
    ("FF", "0100", False),  # padded: "00FF" < "0100"
    ("100", "FF", True),  # padded: "100" > "0FF"; compared as plain strings it would be older
    ("00ff", "00FE", True),  # case does not matter
    ("0A", "0A", False),  # the same event again is not newer
    ("01", None, True),
    (None, "01", False),
    (None, None, True),
])
def test_sequencers_compare_left_padded(candidate, current, newer):
    assert is_newer(candidate, current) is newer


# -- processing results ---------------------------------------------------------------------------


def test_a_clean_result_is_ready():
    outcome = processing_outcome({"status": "READY", "sha256": SHA.upper(), "size": 5, "metadata": {"pages": 2}}, SHA)
    assert (outcome.status, outcome.sha256, outcome.size, outcome.reasons, outcome.metadata) == (
        VersionStatus.READY, SHA, 5, [], {"pages": 2},
    )


def test_a_hash_other_than_the_declared_one_quarantines():
    outcome = processing_outcome({"status": "READY", "sha256": "b" * 64}, SHA)
    assert outcome.status == VersionStatus.QUARANTINED and "differs from the declared" in outcome.reasons[0]


@pytest.mark.parametrize("result", [None, "READY", {}, {"status": "OK"}, {"status": "READY", "sha256": "xyz"}])
def test_malformed_results_quarantine(result):
    outcome = processing_outcome(result, None)
    assert outcome.status == VersionStatus.QUARANTINED and outcome.reasons


def test_a_quarantine_keeps_its_reasons_and_bounds_them():
    outcome = processing_outcome({"status": "QUARANTINED", "reasons": ["zip bomb", "x" * 10_000] + ["r"] * 100}, None)
    assert outcome.status == VersionStatus.QUARANTINED
    assert outcome.reasons[0] == "zip bomb" and len(outcome.reasons[1]) == 500 and len(outcome.reasons) == 50


def test_oversized_metadata_is_not_stored_whole():
    outcome = processing_outcome({"status": "READY", "metadata": {"text": "x" * 100_000}}, None)
    assert outcome.metadata == {"truncated": True, "keys": ["text"]}


# -- views ----------------------------------------------------------------------------------------

T = "2026-11-25T10:00:00Z"


def _document(**fields) -> DocumentRecord:
    upload = UploadRequest(filename="scan.pdf", content_type="application/pdf", size=10, requested_by="alice",
                           requested_at=T)
    return DocumentRecord(**{"id": "d1", "case_id": "c1", "filename": "scan.pdf", "content_type": "application/pdf",
                             "created_at": T, "created_by": "alice", "updated_at": T, "upload": upload, **fields})


def _version(version_id: str, sequencer: str, status=VersionStatus.READY, filename="scan.pdf") -> VersionRecord:
    return VersionRecord(version_id=version_id, document_id="d1", case_id="c1", bucket="b", key="k",
                         sequencer=sequencer, size=10, filename=filename, content_type="application/pdf",
                         status=status, uploaded_at=T, registered_at=T)


def test_a_version_registered_between_the_two_reads_of_a_listing_is_shown_as_the_latest():
    # The listing read the document while it still named v1, then the versions after v2 was registered.
    document = _document(latest_version_id="v1", latest_sequencer="0A", version_count=1)
    versions = [_version("v2", "0B", VersionStatus.PENDING, filename="scan-2.pdf"), _version("v1", "0A")]
    view = document_view(document, versions)
    assert (view.latest_version_id, view.version_count, view.status, view.filename) == (
        "v2", 2, VersionStatus.PENDING, "scan-2.pdf")
    detail = detail_view(document, versions)
    assert [(v.version_id, v.latest) for v in detail.versions] == [("v1", False), ("v2", True)]


def test_a_document_without_versions_is_pending():
    view = document_view(_document(), [])
    assert (view.status, view.latest_version_id, view.version_count) == (VersionStatus.PENDING, None, 0)


# -- upload grants --------------------------------------------------------------------------------


def test_a_grant_is_accepted_only_while_open_for_an_undeleted_document_of_an_open_case():
    document = _document(open_grants={"g1": T})
    assert grant_refusal(document, "g1", case_closed=False) is None
    assert "already used" in grant_refusal(document, "g2", case_closed=False)
    assert grant_refusal(document, None, case_closed=False) == "the object carries no upload grant"
    assert grant_refusal(document, "g1", case_closed=True) == "the case is closed"
    assert grant_refusal(_document(open_grants={"g1": T}, deleted=True), "g1", False) == "the document was deleted"


def test_open_grants_forget_long_expired_forms_and_are_bounded():
    now = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
    stale = iso(now - timedelta(seconds=GRANT_GRACE_SECONDS + 1))
    recent = iso(now - timedelta(seconds=GRANT_GRACE_SECONDS - 1))  # expired, but its late events still count
    grants = grants_with(_document(open_grants={"old": stale, "late": recent}), "new", now + timedelta(minutes=10), now)
    assert grants == {"late": recent, "new": iso(now + timedelta(minutes=10))}
    full = _document(open_grants={f"g{i}": iso(now) for i in range(MAX_OPEN_GRANTS)})
    assert grants_with(full, "one-more", now, now) is None


def test_a_rejected_upload_is_not_a_version():
    rejected = _version("v9", "0F").model_copy(update={"rejected": "the document was deleted"})
    view = detail_view(_document(), [_version("v1", "0A"), rejected])
    assert [v.version_id for v in view.versions] == ["v1"] and view.latest_version_id == "v1"

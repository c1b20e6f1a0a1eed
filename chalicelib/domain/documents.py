"""Documents: evidence a case collects, stored as versions of one S3 object per document.

A document is `CASE#<caseId>` / `DOC#<documentId>`; each S3 object version of its key
(`cases/<caseId>/documents/<documentId>`, generated here, never the client's filename) is a version record
`CASE#<caseId>` / `DOCVER#<documentId>#<versionId>`, registered once however often S3 reports it. The
`sequencer` of S3's event orders the versions of one key, so an event that arrives late never makes an older
version the latest. Every upload request, upload, verification, download and deletion is a custody event
in the case's hash chain, written in the same transaction as the change it records.

Pure Python: the names, keys, orderings and the shapes the API and the stores exchange.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated, Any, Iterable, Mapping, Optional
from urllib.parse import quote, unquote_plus

from pydantic import ConfigDict, Field, StringConstraints

from .base import NOT_BLANK, ApiModel, ApiPage, RequestModel, WholeNumber
from .clock import ISO_FORM, iso

MiB = 1024 * 1024
MAX_DOCUMENT_BYTES = 25 * MiB
UPLOAD_EXPIRES_SECONDS = 600  # the presigned POST: long enough to send 25 MiB on a slow line, no longer
DOWNLOAD_EXPIRES_SECONDS = 300
MAX_FILENAME_BYTES = 255
ALLOWED_CONTENT_TYPES = ("application/pdf", "image/png", "image/jpeg", "text/plain", "application/zip")

GRANT_METADATA = "grant-id"  # x-amz-meta-grant-id: the upload grant a POST policy was signed for
GRANT_GRACE_SECONDS = 24 * 3600  # an expired form's grant is kept this long for its late S3 events
MAX_OPEN_GRANTS = 20  # unused upload forms one document may have at once

_KEY = re.compile(r"^cases/(?P<case>[A-Za-z0-9_-]{1,64})/documents/(?P<doc>[A-Za-z0-9_-]{1,64})$")
_SEQUENCER = re.compile(r"^[0-9A-Fa-f]{1,64}$")
_SHA256 = r"^[0-9a-fA-F]{64}$"
# Unicode categories no file name needs: controls (NUL, CR, LF, ...), format characters (the bidi
# overrides such as U+202E RIGHT-TO-LEFT OVERRIDE, zero-width joiners), surrogates, private use,
# unassigned, and the line and paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_RESERVED = re.compile(r'[<>:"|?*]')  # meaningful to shells, Windows or a quoted header
_MAX_EXTENSION = 16


class VersionStatus(str, Enum):
    PENDING = "PENDING"  # registered, waiting to be processed
    PROCESSING = "PROCESSING"  # the processor was started for it
    READY = "READY"  # verified
    QUARANTINED = "QUARANTINED"  # suspicious or unverifiable: see its reasons


FINAL_STATUSES = (VersionStatus.READY, VersionStatus.QUARANTINED)


class InvalidFilename(ValueError):
    """Nothing usable is left of a file name once it is sanitised."""


# -- names ----------------------------------------------------------------------------------------


def sanitise_filename(raw: str) -> str:
    """The name to keep and show: the last path component, without control, format (bidi override)
    or reserved characters, whitespace runs folded, at most 255 bytes of UTF-8 (the extension kept).
    Raises InvalidFilename when nothing is left."""
    name = unicodedata.normalize("NFC", raw)
    name = "".join(" " if ch in "\r\n\t" else ch for ch in name)  # a line break separates words
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = re.split(r"[\\/]", name)[-1]  # path parts, after the controls: "a/\x00../b" is "b"
    name = _RESERVED.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip()
    name = name.rstrip(". ").lstrip(" ")  # trailing dots and spaces vanish on some file systems
    if not name or set(name) <= {"."}:
        raise InvalidFilename("the file name is empty once path parts and control characters are removed")
    return _truncate(name, MAX_FILENAME_BYTES)


def _truncate(name: str, limit: int) -> str:
    encoded = name.encode("utf-8")
    if len(encoded) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > _MAX_EXTENSION:
        stem, extension = name, ""
    tail = f".{extension}" if extension else ""
    room = limit - len(tail.encode("utf-8"))
    cut = stem.encode("utf-8")[:room].decode("utf-8", errors="ignore")  # never half a character
    return unicodedata.normalize("NFC", cut).rstrip() + tail


def ascii_filename(name: str) -> str:
    """A plain-ASCII stand-in for `name` (the `filename=` of Content-Disposition, for old clients)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    safe = re.sub(r'[^A-Za-z0-9 ._()\[\]+,=@#&!~-]', "_", folded)
    safe = re.sub(r"_+", "_", safe).strip(" ._")
    return safe or "download"


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the exact name percent-encoded (RFC 6266 / 5987)."""
    return f"attachment; filename=\"{ascii_filename(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


# -- object keys and S3 events --------------------------------------------------------------------


def object_key(case_id: str, document_id: str) -> str:
    return f"cases/{case_id}/documents/{document_id}"


def parse_object_key(key: str) -> Optional[tuple[str, str]]:
    """(case id, document id) of a key this system generated; None for any other key."""
    match = _KEY.fullmatch(key)
    return (match["case"], match["doc"]) if match else None


def is_newer(candidate: Optional[str], current: Optional[str]) -> bool:
    """Whether S3 sequencer `candidate` comes after `current` for the same key. Sequencers are hex strings
    of varying length: compare them left-padded with zeros to equal length. A missing one is never newer
    than a present one; anything is newer than nothing."""
    if current is None:
        return True
    if candidate is None:
        return False
    width = max(len(candidate), len(current))
    return candidate.upper().rjust(width, "0") > current.upper().rjust(width, "0")


def sequencer_sort_key(sequencer: Optional[str], width: int = 64) -> str:
    return (sequencer or "").upper().rjust(width, "0")


@dataclass(frozen=True)
class ObjectCreated:
    """One `ObjectCreated` record of an S3 event notification, key decoded."""

    bucket: str
    key: str
    version_id: Optional[str]
    sequencer: Optional[str]
    size: int
    etag: Optional[str]
    event_time: Optional[str]
    event_name: str


def object_created_records(event: Mapping[str, Any]) -> tuple[list[ObjectCreated], list[str]]:
    """The ObjectCreated records of an S3 notification event, and why any other record was skipped."""
    created: list[ObjectCreated] = []
    skipped: list[str] = []
    records = event.get("Records") if isinstance(event, Mapping) else None
    for index, record in enumerate(records if isinstance(records, list) else []):
        try:
            name = str(record.get("eventName", ""))
            if record.get("eventSource") != "aws:s3" or not name.startswith("ObjectCreated"):
                skipped.append(f"record {index}: {record.get('eventSource')} {name} is not an S3 upload")
                continue
            s3, obj = record["s3"], record["s3"]["object"]
            sequencer = obj.get("sequencer")
            created.append(ObjectCreated(
                bucket=str(s3["bucket"]["name"]), key=unquote_plus(str(obj["key"])),
                version_id=str(obj["versionId"]) if obj.get("versionId") else None,
                sequencer=str(sequencer) if sequencer and _SEQUENCER.fullmatch(str(sequencer)) else None,
                size=int(obj.get("size") or 0), etag=str(obj["eTag"]).strip('"') if obj.get("eTag") else None,
                event_time=record.get("eventTime"), event_name=name,
            ))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            skipped.append(f"record {index}: malformed ({type(exc).__name__}: {exc})")
    return created, skipped


# -- stored records -------------------------------------------------------------------------------


class UploadRequest(ApiModel):
    """What an upload request declared; the version it leads to inherits it."""

    filename: str
    content_type: str
    size: int
    sha256: Optional[str] = None
    requested_by: str
    requested_at: str
    grant_id: Optional[str] = None  # the upload grant the form was signed for (single-use)


class DocumentRecord(ApiModel):
    id: str
    case_id: str
    kind: Optional[str] = None
    filename: str
    content_type: str
    created_at: str
    created_by: str
    updated_at: str
    upload: UploadRequest  # the latest upload request
    latest_version_id: Optional[str] = None
    latest_sequencer: Optional[str] = None
    version_count: int = 0
    deleted: bool = False
    deleted_at: Optional[str] = None
    deleted_by: Optional[str] = None
    # Upload grants issued and not used yet: grant id -> when its form expires. Registering a version
    # removes its grant, so a second object posted with the same form finds none.
    open_grants: dict[str, str] = {}
    revision: int = 1  # optimistic concurrency


class VersionRecord(ApiModel):
    version_id: str
    document_id: str
    case_id: str
    bucket: str
    key: str
    sequencer: Optional[str] = None
    size: int
    etag: Optional[str] = None
    filename: str
    content_type: str
    declared_sha256: Optional[str] = None
    sha256: Optional[str] = None
    status: VersionStatus = VersionStatus.PENDING
    reasons: list[str] = []
    metadata: dict[str, Any] = {}
    uploaded_at: str
    requested_by: Optional[str] = None
    registered_at: str
    processed_at: Optional[str] = None
    grant_id: Optional[str] = None
    rejected: Optional[str] = None  # why the upload was refused: never processed, never shown as a version
    revision: int = 1


class LegalHold(ApiModel):
    case_id: str
    enabled: bool
    reason: Optional[str] = None
    updated_at: Optional[str] = None
    updated_by: Optional[str] = None
    revision: int = Field(default=0, exclude=True)  # 0: never stored


def no_hold(case_id: str) -> LegalHold:
    return LegalHold(case_id=case_id, enabled=False)


# -- upload grants --------------------------------------------------------------------------------


def grants_with(
    document: DocumentRecord, grant_id: str, expires_at: datetime, now: datetime,
) -> Optional[dict[str, str]]:
    """The document's open grants with a new one, without those whose form expired a grace period ago;
    None when MAX_OPEN_GRANTS forms are still open."""
    cutoff = iso(now - timedelta(seconds=GRANT_GRACE_SECONDS))
    kept = {g: until for g, until in document.open_grants.items() if until >= cutoff}  # one ISO format
    if len(kept) >= MAX_OPEN_GRANTS:
        return None
    return {**kept, grant_id: iso(expires_at)}


def grant_refusal(document: DocumentRecord, grant_id: Optional[str], case_closed: bool) -> Optional[str]:
    """Why an object posted under `grant_id` must not become a version of `document`; None to accept it.
    A grant is single-use: the first object registered under it consumes it."""
    if document.deleted:
        return "the document was deleted"
    if case_closed:
        return "the case is closed"
    if grant_id is None:
        return "the object carries no upload grant"
    if grant_id not in document.open_grants:
        return f"upload grant {grant_id} was already used (or never issued for this document)"
    return None


def versions_in_order(document: DocumentRecord, versions: Iterable[VersionRecord]) -> list[VersionRecord]:
    """The document's versions, oldest first: S3's sequencer orders writes to one key. Rejected uploads are
    not versions."""
    return sorted(
        (v for v in versions if v.document_id == document.id and v.rejected is None),
        key=lambda v: (sequencer_sort_key(v.sequencer), v.registered_at),
    )


def latest_version(document: DocumentRecord, versions: Iterable[VersionRecord]) -> Optional[VersionRecord]:
    """The newest registered version among `versions`. Derived from the versions rather than the document's
    pointer: a listing reads documents, then versions, and a registration committing in between must not
    show a version that is newer than the one called latest (registration moves the pointer to the same
    version, so once both are read together they agree)."""
    mine = versions_in_order(document, versions)
    return mine[-1] if mine else None


def document_status(document: DocumentRecord, versions: Iterable[VersionRecord]) -> VersionStatus:
    """The latest version's status; PENDING while no version is registered."""
    latest = latest_version(document, versions)
    return latest.status if latest else VersionStatus.PENDING


# -- the API's shapes -----------------------------------------------------------------------------

Sha256 = Annotated[str, StringConstraints(pattern=_SHA256)]
Kind = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[\w .:/-]*[\w.:/-][\w .:/-]*$")]
# The service compares content types lower-cased: the document says which spellings it takes.
_ANY_CASE = "|".join(
    "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in t) for t in ALLOWED_CONTENT_TYPES
)
ContentType = Annotated[str, Field(json_schema_extra={"pattern": f"^({_ANY_CASE})$"})]


class DocumentUpload(RequestModel):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=1024, strip_whitespace=False)] = Field(
        description="the original name; kept as sanitised metadata, never used as the object key"
    )
    content_type: ContentType = Field(description=f"one of {', '.join(ALLOWED_CONTENT_TYPES)}")
    size: WholeNumber = Field(  # above the maximum the service answers 413, not 400
        ge=1, json_schema_extra={"maximum": MAX_DOCUMENT_BYTES},
        description=f"bytes, at most {MAX_DOCUMENT_BYTES}; the upload may not be larger",
    )
    sha256: Optional[Sha256] = Field(default=None, description="hex SHA-256 of the content; the processor checks it")
    kind: Optional[Kind] = Field(
        default=None, description="which of the case's requiredDocuments this is (new documents only)"
    )


class UploadForm(ApiModel):
    url: str
    fields: dict[str, str] = Field(description="send every field with the file, as multipart/form-data, file last")


class UploadTicket(ApiModel):
    document_id: str
    upload: UploadForm
    expires_in: int = Field(description="seconds the upload form stays valid")
    max_size: int = Field(description="the most bytes the form accepts")


class DocumentVersion(ApiModel):
    version_id: str = Field(description="the S3 version id of the uploaded object")
    status: VersionStatus
    latest: bool = Field(default=False, description="whether this is the document's newest version")
    size: int = Field(description="bytes, as stored")
    e_tag: Optional[str] = Field(default=None, description="the object's S3 ETag")
    sha256: Optional[str] = Field(default=None, description="as computed by the processor")
    declared_sha256: Optional[str] = Field(default=None, description="hex SHA-256 the upload request declared")
    filename: str = Field(description="as the upload request named the file")
    content_type: str = Field(description="MIME type the upload request declared")
    reasons: list[str] = Field(default=[], description="why the version was quarantined")
    metadata: dict[str, Any] = Field(default={}, description="what the processor extracted (pages, dimensions, ...)")
    uploaded_at: str = Field(description=f"when S3 stored the object: {ISO_FORM}")
    requested_by: Optional[str] = Field(default=None, description="username of who asked for the upload form")
    processed_at: Optional[str] = Field(default=None, description=f"when the processor finished: {ISO_FORM}")


class Document(ApiModel):
    id: str
    case_id: str
    kind: Optional[str] = None
    filename: str
    content_type: str
    status: VersionStatus = Field(description="the latest version's status; PENDING until a version is uploaded")
    latest_version_id: Optional[str] = None
    version_count: int
    created_at: str
    created_by: str
    updated_at: str
    deleted: bool = False
    deleted_at: Optional[str] = None
    deleted_by: Optional[str] = None


class DocumentDetail(Document):
    versions: list[DocumentVersion] = Field(description="oldest first")


class DocumentList(ApiPage):
    items: list[Document]


class DownloadLink(ApiModel):
    url: str
    expires_in: int
    version_id: str


class LegalHoldRequest(RequestModel):
    # Setting a hold needs its reason (the service answers 400 without one); lifting it does not.
    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"enabled": {"const": True}}, "required": ["enabled"]},
        "then": {"required": ["reason"], "properties": {"reason": {"type": "string"}}},
    })

    enabled: bool = Field(strict=True)
    reason: Optional[Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK)]] = None


class LegalHoldView(LegalHold):
    object_lock: Optional[dict[str, Any]] = Field(
        default=None, description="what the S3 Object Lock legal holds did: applied, failed, skipped (why)"
    )


def version_view(version: VersionRecord, latest_id: Optional[str]) -> DocumentVersion:
    return DocumentVersion(
        version_id=version.version_id, status=version.status, latest=version.version_id == latest_id,
        size=version.size, e_tag=version.etag, sha256=version.sha256, declared_sha256=version.declared_sha256,
        filename=version.filename, content_type=version.content_type, reasons=version.reasons,
        metadata=version.metadata, uploaded_at=version.uploaded_at, requested_by=version.requested_by,
        processed_at=version.processed_at,
    )


def document_view(document: DocumentRecord, versions: Iterable[VersionRecord]) -> Document:
    mine = versions_in_order(document, versions)
    latest = mine[-1] if mine else None
    return Document(
        id=document.id, case_id=document.case_id, kind=document.kind,
        filename=latest.filename if latest else document.filename,
        content_type=latest.content_type if latest else document.content_type,
        status=latest.status if latest else VersionStatus.PENDING,
        latest_version_id=latest.version_id if latest else None, version_count=len(mine),
        created_at=document.created_at, created_by=document.created_by, updated_at=document.updated_at,
        deleted=document.deleted, deleted_at=document.deleted_at, deleted_by=document.deleted_by,
    )


def detail_view(document: DocumentRecord, versions: Iterable[VersionRecord]) -> DocumentDetail:
    mine = versions_in_order(document, versions)
    latest_id = mine[-1].version_id if mine else None
    return DocumentDetail(
        **document_view(document, mine).model_dump(),
        versions=[version_view(v, latest_id) for v in mine],
    )


# -- processing results ---------------------------------------------------------------------------

_MAX_REASONS = 50
_MAX_REASON_CHARS = 500
_MAX_METADATA_CHARS = 32_000  # DynamoDB items stop at 400 KB; extracted text belongs in S3, not here


@dataclass(frozen=True)
class ProcessingOutcome:
    status: VersionStatus
    sha256: Optional[str]
    size: Optional[int]
    reasons: list[str]
    metadata: dict[str, Any]


def processing_outcome(result: Any, declared_sha256: Optional[str]) -> ProcessingOutcome:
    """Read the processor's result (`status` READY|QUARANTINED, `sha256`, `size`, `reasons`, `metadata`)
    failing safe: anything malformed, or a hash other than the declared one, quarantines."""
    reasons: list[str] = []
    if not isinstance(result, Mapping):
        return ProcessingOutcome(VersionStatus.QUARANTINED, None, None, ["the processing result is not an object"], {})
    raw_status = str(result.get("status", "")).upper()
    status = VersionStatus.READY if raw_status == "READY" else VersionStatus.QUARANTINED
    if raw_status not in ("READY", "QUARANTINED"):
        reasons.append(f"the processing result has no valid status ({str(result.get('status'))[:40]!r})")
    given = result.get("reasons") or []
    if isinstance(given, str):
        given = [given]
    if isinstance(given, list):
        reasons = [str(r)[:_MAX_REASON_CHARS] for r in given[:_MAX_REASONS]] + reasons
    sha256 = result.get("sha256")
    if sha256 is not None and not (isinstance(sha256, str) and re.fullmatch(_SHA256, sha256)):
        reasons.append("the processing result's sha256 is malformed")
        status, sha256 = VersionStatus.QUARANTINED, None
    sha256 = sha256.lower() if isinstance(sha256, str) else None
    if status == VersionStatus.READY and declared_sha256 and sha256 != declared_sha256.lower():
        status = VersionStatus.QUARANTINED
        reasons.append("the content's SHA-256 differs from the declared one")
    size = result.get("size")
    size = size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None
    metadata = result.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        metadata = {}
    try:
        metadata = json.loads(json.dumps(dict(metadata), default=str))
    except (TypeError, ValueError):
        metadata = {"error": "the extracted metadata could not be stored"}
    if len(json.dumps(metadata)) > _MAX_METADATA_CHARS:
        metadata = {"truncated": True, "keys": sorted(str(k) for k in metadata)[:100]}
    if status == VersionStatus.QUARANTINED and not reasons:
        reasons.append("quarantined by the processor")
    return ProcessingOutcome(status, sha256, size, reasons, metadata)

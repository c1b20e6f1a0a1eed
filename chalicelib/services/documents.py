"""Document use cases: upload and download forms, the S3 event that registers object versions, processing
results, soft deletion and legal hold. Pure Python over the ports.

Every change is one atomic write (a CaseChange) of the document and version records and the custody
events appended to the case's hash chain; the write is conditional on the records' revisions and the chain's
head, and a lost race is re-read and decided again. S3 events arrive more than once and out of order: a
version is registered once (its record may not exist yet), and only a newer `sequencer` moves a document's
latest version.
"""
from __future__ import annotations

import builtins  # the service's own `list` method hides the type in the class body
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Optional

from ..domain.access import Action, Principal, Role, can_view, require
from ..domain.documents import (
    ALLOWED_CONTENT_TYPES, DOWNLOAD_EXPIRES_SECONDS, FINAL_STATUSES, MAX_DOCUMENT_BYTES, UPLOAD_EXPIRES_SECONDS,
    GRANT_METADATA, MAX_OPEN_GRANTS, Document, DocumentDetail, DocumentList, DocumentRecord, DocumentUpload,
    DownloadLink, InvalidFilename, LegalHold, LegalHoldRequest, LegalHoldView, ObjectCreated, UploadRequest,
    UploadTicket, VersionRecord, VersionStatus, content_disposition, detail_view, document_status, document_view,
    grant_refusal, grants_with, is_newer, object_created_records, object_key, parse_object_key, processing_outcome,
    sanitise_filename,
)
from ..domain.exports import (
    MANIFEST_CONTENT_TYPE, EvidenceExport, ExportedVersion, ExportRequest, HistoryHead, manifest, manifest_key,
    select_versions, sha256_hex,
)
from ..domain.changes import CaseChange
from ..domain.clock import Clock, iso, utc_now
from ..domain.models import Case, CaseStatus
from ..errors import Conflict, FieldIssue, InvalidInput, NotFound, PayloadTooLarge
from ..domain.queries import DEFAULT_PAGE
from ..ports import CaseRepository, DocumentStore, ObjectStorage, StartKey
from . import cursor
from .validation import parse
from .retry import Decided, retrying
from .. import metrics

log = logging.getLogger(__name__)
SYSTEM = "system"


# (case id, document id, version id) -> whether processing was started.
VersionCallback = Callable[[str, str, str], Optional[bool]]


def _not_started(case_id: str, document_id: str, version_id: str) -> bool:
    return False


def _nothing(case_id: str) -> None:
    return None


@dataclass
class S3EventReport:
    registered: list[str] = field(default_factory=list)  # "<caseId>/<documentId>/<versionId>"
    duplicates: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # "<caseId>/<documentId>/<versionId>: <why>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "registered": self.registered, "duplicates": self.duplicates, "ignored": self.ignored,
            "rejected": self.rejected,
        }


class DocumentService:
    """`on_version_registered(case_id, document_id, version_id)` starts processing a new version (the
    document workflow) and returns True when it did; it may be called again for a version still PENDING
    (a re-delivered event), so it must be idempotent. `on_version_processed(case_id)` runs after a
    processing result was recorded (e.g. to resume the case workflow's DOCUMENTS stage)."""

    def __init__(
        self,
        cases: CaseRepository,
        store: DocumentStore,
        storage: ObjectStorage,
        *,
        clock: Clock = utc_now,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        new_grant_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        on_version_registered: VersionCallback = _not_started,
        on_version_processed: Callable[[str], None] = _nothing,
        max_size: int = MAX_DOCUMENT_BYTES,
        upload_expires: int = UPLOAD_EXPIRES_SECONDS,
        download_expires: int = DOWNLOAD_EXPIRES_SECONDS,
    ) -> None:
        self._cases, self._store, self._storage = cases, store, storage
        self._clock, self._new_id, self._new_grant_id = clock, new_id, new_grant_id
        self.on_version_registered = on_version_registered
        self.on_version_processed = on_version_processed
        self._max_size, self._upload_expires, self._download_expires = max_size, upload_expires, download_expires

    # -- people's API ------------------------------------------------------------------------

    def request_upload(self, principal: Principal, case_id: str, payload: Any) -> UploadTicket:
        """A new document: its record (PENDING until S3 reports a version) and a presigned POST for its key."""
        require(principal, Action.UPLOAD_DOCUMENTS)
        request = parse(DocumentUpload, payload)
        case = self._visible_case(principal, case_id)
        upload = self._upload_request(principal, request)
        if request.kind is not None and request.kind not in case.required_documents:
            allowed = ", ".join(case.required_documents) or "none: the case requires no documents"
            raise InvalidInput("unknown document kind", [FieldIssue("kind", f"must be one of {allowed}")])
        document_id = self._new_id()

        def decide(case: Case) -> Decided[DocumentRecord]:
            _refuse_if_closed(case)
            record = DocumentRecord(
                id=document_id, case_id=case.id, kind=request.kind, filename=upload.filename,
                content_type=upload.content_type, created_at=upload.requested_at, created_by=principal.username,
                updated_at=upload.requested_at, upload=upload,
            )
            record = record.model_copy(update={"open_grants": self._grants(record, upload)})
            change = CaseChange(case, principal.username, upload.requested_at)
            change.append(
                "DOCUMENT_UPLOAD_REQUESTED", {"documentId": document_id, **_declared(upload), "kind": request.kind}
            )
            change.put(record)
            return change, record

        record = retrying(
            self._cases.apply, lambda: self._case(case_id), decide, f"case {case_id} is changing too fast; retry",
        )
        return self._ticket(record, upload)

    def request_new_version(self, principal: Principal, case_id: str, document_id: str, payload: Any) -> UploadTicket:
        """A presigned POST for the document's own key: S3 keeps the upload as a new version of it."""
        require(principal, Action.UPLOAD_DOCUMENTS)
        request = parse(DocumentUpload, payload)
        self._visible_case(principal, case_id)
        upload = self._upload_request(principal, request)

        def decide(case: Case) -> Decided[DocumentRecord]:
            _refuse_if_closed(case)
            document = self._visible_document(principal, case_id, document_id)
            if document.deleted:
                raise Conflict(f"document {document_id} was deleted; upload a new document instead")
            if request.kind is not None and request.kind != document.kind:
                raise InvalidInput(
                    "a new version keeps its document's kind",
                    [FieldIssue("kind", f"must be {document.kind!r} or omitted")],
                )
            updated = document.model_copy(update={
                "upload": upload, "updated_at": upload.requested_at, "revision": document.revision + 1,
                "open_grants": self._grants(document, upload),
            })
            change = CaseChange(case, principal.username, upload.requested_at)
            change.append(
                "DOCUMENT_UPLOAD_REQUESTED", {"documentId": document_id, **_declared(upload), "newVersion": True}
            )
            change.put(updated, expected=document.revision)
            return change, updated

        updated = retrying(
            self._cases.apply, lambda: self._case(case_id), decide,
            f"document {document_id} is changing too fast; retry",
        )
        return self._ticket(updated, upload)

    def list(
        self, principal: Principal, case_id: str, limit: int = DEFAULT_PAGE, page_cursor: Optional[str] = None,
    ) -> DocumentList:
        """By document id. Deleted documents are left out of the page for those who may not see them, so a page
        may be short of `limit` and still have a next one."""
        require(principal, Action.READ_DOCUMENTS)
        self._visible_case(principal, case_id)
        sees_deleted = _sees_deleted(principal)
        (documents, versions), next_cursor = cursor.paged(
            "documents", {"case": case_id, "deleted": sees_deleted}, limit, page_cursor,
            lambda size, start: self._read_documents(case_id, size, start),
        )
        shown = [document_view(d, versions) for d in documents if not d.deleted or sees_deleted]
        return DocumentList(items=shown, next_cursor=next_cursor)

    def _read_documents(
        self, case_id: str, limit: int, start_key: StartKey,
    ) -> tuple[tuple[builtins.list[DocumentRecord], builtins.list[VersionRecord]], StartKey]:
        documents, versions, next_key = self._store.documents_page(case_id, limit, start_key)
        return (documents, versions), next_key

    def get(self, principal: Principal, case_id: str, document_id: str) -> DocumentDetail:
        require(principal, Action.READ_DOCUMENTS)
        self._visible_case(principal, case_id)
        document = self._visible_document(principal, case_id, document_id)
        return detail_view(document, self._store.list_versions(case_id, document_id))

    def download(
        self, principal: Principal, case_id: str, document_id: str, version_id: Optional[str] = None,
    ) -> DownloadLink:
        """A short-lived URL of one version (the latest by default); the download is a custody event."""
        require(principal, Action.READ_DOCUMENTS)
        self._visible_case(principal, case_id)
        if version_id is not None and not (0 < len(version_id) <= 1024 and version_id.isprintable()):
            raise InvalidInput("invalid versionId", [FieldIssue("versionId", "not a version id")])

        def decide(case: Case) -> Decided[VersionRecord]:
            document = self._visible_document(principal, case_id, document_id)
            wanted = version_id or document.latest_version_id
            if wanted is None:
                raise Conflict(f"document {document_id} has no uploaded version yet")
            version = self._store.get_version(case_id, document_id, wanted)
            if version is None:
                raise NotFound(f"document {document_id} has no version {wanted}")
            override = _refuse_download(principal, version)
            change = CaseChange(case, principal.username, iso(self._clock()))
            change.append("DOCUMENT_DOWNLOADED", {
                "documentId": document_id, "versionId": version.version_id, "by": principal.username,
                "status": version.status.value, **({"quarantineOverride": True} if override else {}),
            })
            return change, version

        version = retrying(
            self._cases.apply, lambda: self._case(case_id), decide, f"case {case_id} is changing too fast; retry",
        )
        url = self._storage.download_url(
            version.key, version.version_id, version.content_type, content_disposition(version.filename),
            self._download_expires,
        )
        return DownloadLink(url=url, expires_in=self._download_expires, version_id=version.version_id)

    def export(self, principal: Principal, case_id: str, payload: Any) -> EvidenceExport:
        """Hand over the latest processed version of the case's documents (or of the ones named): a manifest
        naming each version's SHA-256 and the history's head is stored, its hash recorded as the
        DOCUMENTS_EXPORTED custody event, and only then are the download URLs given out."""
        require(principal, Action.EXPORT_DOCUMENTS)
        request = parse(ExportRequest, payload)
        self._visible_case(principal, case_id)
        export_id = self._new_id()

        def decide(case: Case) -> Decided[EvidenceExport]:
            documents, versions = self._store.list_documents(case_id)
            visible = [d for d in documents if not d.deleted or _sees_deleted(principal)]
            exported, excluded, unknown = select_versions(visible, versions, request.document_ids)
            if unknown:
                raise InvalidInput("unknown documents", [
                    FieldIssue(f"documentIds[{i}]", "no such document in this case") for i in unknown
                ])
            if not exported:
                raise Conflict(
                    "nothing to export: no document has a processed (READY) latest version",
                    [FieldIssue(f"documents.{e.document_id}", e.reason) for e in excluded],
                )
            now = iso(self._clock())
            head = HistoryHead(seq=case.audit_seq, hash=case.audit_hash)
            kinds = {d.id: d.kind for d in documents}
            body = manifest(
                export_id=export_id, case_id=case_id, created_at=now, created_by=principal.username,
                reason=request.reason, head=head, versions=exported, kinds=kinds, excluded=excluded,
            )
            key, digest = manifest_key(case_id, export_id), sha256_hex(body)
            manifest_version = self._storage.put_object(key, body, MANIFEST_CONTENT_TYPE)
            change = CaseChange(case, principal.username, now)
            change.append("DOCUMENTS_EXPORTED", {
                "exportId": export_id, "reason": request.reason, "by": principal.username, "manifestKey": key,
                "manifestVersionId": manifest_version, "manifestSha256": digest,
                "versions": [
                    {"documentId": v.document_id, "versionId": v.version_id, "sha256": v.sha256} for v in exported
                ],
                "excluded": len(excluded),
            })
            expires = self._download_expires
            # Given out only once the change is applied; a lost race (the history moved) is decided again,
            # since the manifest must name the new head.
            return change, EvidenceExport(
                export_id=export_id, case_id=case_id, created_at=now, created_by=principal.username,
                reason=request.reason, history_head=head, manifest_key=key, manifest_version_id=manifest_version,
                manifest_sha256=digest, expires_in=expires,
                manifest_url=self._storage.download_url(
                    key, manifest_version or "null", MANIFEST_CONTENT_TYPE,
                    content_disposition(f"export-{export_id}.json"), expires,
                ),
                documents=[
                    ExportedVersion(
                        document_id=v.document_id, version_id=v.version_id, kind=kinds[v.document_id],
                        filename=v.filename, content_type=v.content_type, size=v.size, sha256=v.sha256 or "",
                        url=self._storage.download_url(
                            v.key, v.version_id, v.content_type, content_disposition(v.filename), expires,
                        ),
                    )
                    for v in exported
                ],
                excluded=excluded,
            )

        return retrying(
            self._cases.apply, lambda: self._case(case_id), decide, f"case {case_id} is changing too fast; retry",
        )

    def delete(self, principal: Principal, case_id: str, document_id: str) -> Document:
        """Soft delete (admins): the document is marked deleted, its versions stay; refused under legal hold."""
        require(principal, Action.DELETE_DOCUMENTS)
        self._visible_case(principal, case_id)

        def decide(case: Case) -> Decided[Document]:
            document = self._visible_document(principal, case_id, document_id)
            versions = self._store.list_versions(case_id, document_id)
            if document.deleted:
                return None, document_view(document, versions)
            if self._store.get_legal_hold(case_id).enabled:
                raise Conflict(f"case {case_id} is under legal hold: its documents cannot be deleted")
            now = iso(self._clock())
            updated = document.model_copy(update={
                "deleted": True, "deleted_at": now, "deleted_by": principal.username, "updated_at": now,
                "revision": document.revision + 1,
            })
            change = CaseChange(case, principal.username, now)
            change.append("DOCUMENT_DELETED", {
                "documentId": document_id, "versionsKept": [v.version_id for v in versions],
            })
            change.put(updated, expected=document.revision)
            change.require_no_hold()  # a hold set meanwhile wins
            return change, document_view(updated, versions)

        return retrying(
            self._cases.apply, lambda: self._case(case_id), decide,
            f"document {document_id} is changing too fast; retry",
        )

    def legal_hold(self, principal: Principal, case_id: str) -> LegalHold:
        require(principal, Action.READ_DOCUMENTS)
        self._visible_case(principal, case_id)
        return self._store.get_legal_hold(case_id)

    def set_legal_hold(self, principal: Principal, case_id: str, payload: Any) -> LegalHoldView:
        """Set or lift the case's legal hold (admins), then the S3 Object Lock legal hold of every version of
        its documents. Repeating it changes nothing in the chain but re-applies the object holds (a repair)."""
        require(principal, Action.MANAGE_LEGAL_HOLD)
        request = parse(LegalHoldRequest, payload)
        if request.enabled and not request.reason:
            raise InvalidInput("a legal hold needs a reason", [FieldIssue("reason", "required when enabled")])
        self._visible_case(principal, case_id)

        def decide(case: Case) -> Decided[LegalHold]:
            current = self._store.get_legal_hold(case_id)
            if current.enabled == request.enabled and (not request.enabled or current.reason == request.reason):
                return None, current
            now = iso(self._clock())
            hold = LegalHold(
                case_id=case_id, enabled=request.enabled, reason=request.reason, updated_at=now,
                updated_by=principal.username, revision=current.revision + 1,
            )
            change = CaseChange(case, principal.username, now)
            change.append("LEGAL_HOLD_SET" if request.enabled else "LEGAL_HOLD_RELEASED", {"reason": request.reason})
            change.put(hold, expected=current.revision or None)  # revision 0: none stored yet
            return change, hold

        hold = retrying(
            self._cases.apply, lambda: self._case(case_id), decide, f"case {case_id} is changing too fast; retry",
        )
        _, versions = self._store.list_documents(case_id)
        return LegalHoldView(**hold.model_dump(), object_lock=self._apply_object_holds(versions, hold.enabled))

    # -- the S3 event ------------------------------------------------------------------------

    def on_s3_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Register every object version an S3 notification reports. Records that are not ours are ignored
        (and logged); an error that may pass (e.g. DynamoDB throttled) is raised after the other records, so
        the event is delivered again and the registered records are found registered."""
        report = S3EventReport()
        records, skipped = object_created_records(event)
        report.ignored.extend(skipped)
        failure: Optional[Exception] = None
        for record in records:
            try:
                self._register(record, report)
            except Exception as exc:  # one bad record must not hide the others
                log.exception("could not register %s version %s", record.key, record.version_id)
                failure = failure or exc
        for reason in report.ignored:
            log.warning("S3 event record ignored: %s", reason)
        for reason in report.rejected:
            log.warning("S3 upload rejected: %s", reason)
        if failure is not None:
            raise failure
        return report.to_dict()

    def register_version(self, record: ObjectCreated) -> tuple[VersionRecord, bool]:
        """Register one object version; (the version, whether this call registered it). Idempotent."""
        ids = parse_object_key(record.key)
        if ids is None or record.version_id is None:
            raise ValueError(f"{record.key} (version {record.version_id}) is not a document version")
        case_id, document_id = ids
        version_id = record.version_id
        metadata = self._storage.object_metadata(record.key, version_id)  # S3 events carry no metadata
        grant_id = (metadata or {}).get(GRANT_METADATA)

        def decide(case: Case) -> Decided[tuple[VersionRecord, bool]]:
            document = self._store.get_document(case_id, document_id)
            if document is None:
                raise NotFound(f"no document {document_id} in case {case_id}")
            existing = self._store.get_version(case_id, document_id, version_id)
            if existing is not None:
                return None, (existing, False)
            now = iso(self._clock())
            upload = document.upload
            version = VersionRecord(
                version_id=version_id, document_id=document_id, case_id=case_id, bucket=record.bucket,
                key=record.key, sequencer=record.sequencer, size=record.size, etag=record.etag,
                filename=upload.filename, content_type=upload.content_type, declared_sha256=upload.sha256,
                uploaded_at=record.event_time or now, requested_by=upload.requested_by, registered_at=now,
                grant_id=grant_id,
            )
            refusal = grant_refusal(document, grant_id, case.status == CaseStatus.CLOSED)
            if refusal is not None:  # kept as evidence of the attempt; never processed, never a version
                rejected = version.model_copy(update={"rejected": refusal, "requested_by": None})
                change = CaseChange(case, SYSTEM, now)
                change.append("DOCUMENT_UPLOAD_REJECTED", {
                    "documentId": document_id, "key": record.key, "versionId": version_id, "size": record.size,
                    "grantId": grant_id, "reason": refusal,
                })
                change.put(rejected)
                return change, (rejected, True)
            newest = is_newer(record.sequencer, document.latest_sequencer) or document.latest_version_id is None
            updates: dict[str, Any] = {
                "version_count": document.version_count + 1, "revision": document.revision + 1, "updated_at": now,
                "open_grants": {g: until for g, until in document.open_grants.items() if g != grant_id},  # used
            }
            if newest:
                updates.update(
                    latest_version_id=version_id, latest_sequencer=record.sequencer,
                    filename=upload.filename, content_type=upload.content_type,
                )
            change = CaseChange(case, SYSTEM, now)
            change.append("DOCUMENT_UPLOADED", {
                "documentId": document_id, "key": record.key, "versionId": version_id, "size": record.size,
                "eTag": record.etag, "sequencer": record.sequencer, "declaredSha256": upload.sha256,
                "requestedBy": upload.requested_by, "latest": newest, "grantId": grant_id,
            })
            change.put(version)
            change.put(document.model_copy(update=updates), expected=document.revision)
            return change, (version, True)

        # A lost race (a twin event registered it, or the chain moved) is read again.
        return retrying(
            self._cases.apply, lambda: self._case(case_id), decide,
            f"document {document_id} is changing too fast; retry",
        )

    def mark_processing(self, case_id: str, document_id: str, version_id: str) -> VersionRecord:
        """PENDING → PROCESSING (the processor was started); any other status is kept. Idempotent."""

        def decide(case: Case) -> Decided[VersionRecord]:
            version = self._version(case_id, document_id, version_id)
            if version.status != VersionStatus.PENDING or version.rejected is not None:
                return None, version
            updated = version.model_copy(update={"status": VersionStatus.PROCESSING, "revision": version.revision + 1})
            change = CaseChange(case, SYSTEM, iso(self._clock()))
            change.append("DOCUMENT_PROCESSING_STARTED", {"documentId": document_id, "versionId": version_id})
            change.put(updated, expected=version.revision)
            return change, updated

        return retrying(
            self._cases.apply, lambda: self._case(case_id), decide,
            f"version {version_id} is changing too fast; retry",
        )

    # -- the workflow's API ------------------------------------------------------------------

    def record_processing_result(
        self, case_id: str, document_id: str, version_id: str, result: Mapping[str, Any],
    ) -> VersionRecord:
        """The processor's verdict on one version: READY or QUARANTINED (with reasons), the computed SHA-256 and
        the extracted metadata, with a DOCUMENT_VERIFIED / DOCUMENT_QUARANTINED custody event. A result with a
        hash other than the declared one, or a malformed result, quarantines. Idempotent: the first verdict
        stays, later calls return it unchanged."""

        def decide(case: Case) -> Decided[tuple[VersionRecord, Optional[bool]]]:
            version = self._version(case_id, document_id, version_id)
            if version.status in FINAL_STATUSES or version.rejected is not None:  # a rejected upload: no verdict
                return None, (version, None)
            outcome = processing_outcome(result, version.declared_sha256)
            now = iso(self._clock())
            updated = version.model_copy(update={
                "status": outcome.status, "sha256": outcome.sha256, "reasons": outcome.reasons,
                "metadata": outcome.metadata, "processed_at": now, "revision": version.revision + 1,
            })
            verified = outcome.status == VersionStatus.READY
            change = CaseChange(case, SYSTEM, now)
            change.append("DOCUMENT_VERIFIED" if verified else "DOCUMENT_QUARANTINED", {
                "documentId": document_id, "versionId": version_id, "sha256": outcome.sha256,
                "size": outcome.size if outcome.size is not None else version.size,
                **({} if verified else {"reasons": outcome.reasons}),
            })
            change.put(updated, expected=version.revision)
            return change, (updated, verified)

        recorded, verified = retrying(
            self._cases.apply, lambda: self._case(case_id), decide,
            f"version {version_id} is changing too fast; retry",
        )
        if verified is None:
            return recorded  # the first verdict stays
        metrics.count(metrics.DOCUMENTS_PROCESSED if verified else metrics.DOCUMENTS_QUARANTINED)
        try:
            self.on_version_processed(case_id)
        except Exception:  # recorded either way; the workflow's own timeout catches a missed resume
            log.exception("on_version_processed failed for case %s", case_id)
        return recorded

    def required_documents_status(self, case: Case) -> dict[str, builtins.list[str]]:
        """Which of the case's required document kinds have a document whose latest version is READY."""
        documents, versions = self._store.list_documents(case.id)
        ready = {
            d.kind for d in documents
            if d.kind and not d.deleted and document_status(d, versions) == VersionStatus.READY
        }
        return {
            "ready": [k for k in case.required_documents if k in ready],
            "missing": [k for k in case.required_documents if k not in ready],
        }

    def required_documents_ready(self, case: Case) -> bool:
        """True when every name in `case.requiredDocuments` has a (not deleted) document of that kind whose
        latest version is READY; a case that requires none is ready."""
        if not case.required_documents:
            return True
        return not self.required_documents_status(case)["missing"]

    def version(self, case_id: str, document_id: str, version_id: str) -> VersionRecord:
        """One version's record (bucket, key, declared hash), for the workflow; no principal: callers authorise."""
        return self._version(case_id, document_id, version_id)

    # -- internals ---------------------------------------------------------------------------

    def _register(self, record: ObjectCreated, report: S3EventReport) -> None:
        ids = parse_object_key(record.key)
        if record.bucket != self._storage.bucket or ids is None:
            report.ignored.append(f"s3://{record.bucket}/{record.key}: not a document of this system")
            return
        if record.version_id is None:
            report.ignored.append(f"s3://{record.bucket}/{record.key}: no versionId (is the bucket versioned?)")
            return
        try:
            version, registered = self.register_version(record)
        except NotFound as exc:
            report.ignored.append(f"s3://{record.bucket}/{record.key}: {exc.message}")
            return
        label = f"{version.case_id}/{version.document_id}/{version.version_id}"
        if version.rejected is not None:
            report.rejected.append(f"{label}: {version.rejected}")
        else:
            (report.registered if registered else report.duplicates).append(label)
        if registered and self._store.get_legal_hold(version.case_id).enabled:
            self._apply_object_holds([version], True)
        # A re-delivery may find processing never started; a rejected upload is never processed.
        if version.rejected is None and version.status == VersionStatus.PENDING:
            if self.on_version_registered(version.case_id, version.document_id, version.version_id):
                self.mark_processing(version.case_id, version.document_id, version.version_id)

    def _apply_object_holds(self, versions: Iterable[VersionRecord], enabled: bool) -> dict[str, Any]:
        applied = 0
        failed: list[str] = []
        for version in versions:
            try:
                if not self._storage.set_legal_hold(version.key, version.version_id, enabled):
                    log.warning(
                        "bucket %s has no S3 Object Lock: legal hold recorded, object holds skipped (deletion is "
                        "still refused)", self._storage.bucket,
                    )
                    return {"applied": applied, "failed": failed, "skipped": "the bucket has no S3 Object Lock"}
                applied += 1
            except Exception as exc:  # recorded; repeating the request retries the rest
                log.exception("could not set the legal hold of %s version %s", version.key, version.version_id)
                failed.append(f"{version.document_id}/{version.version_id}: {type(exc).__name__}")
        return {"applied": applied, "failed": failed, "skipped": None}

    def _upload_request(self, principal: Principal, request: DocumentUpload) -> UploadRequest:
        content_type = request.content_type.strip().lower()
        if content_type not in ALLOWED_CONTENT_TYPES:
            allowed = ", ".join(ALLOWED_CONTENT_TYPES)
            raise InvalidInput("content type not allowed", [FieldIssue("contentType", f"must be one of {allowed}")])
        if request.size > self._max_size:
            raise PayloadTooLarge(
                f"documents may be at most {self._max_size} bytes",
                [FieldIssue("size", f"must be at most {self._max_size}")],
            )
        try:
            filename = sanitise_filename(request.filename)
        except InvalidFilename as exc:
            raise InvalidInput("invalid filename", [FieldIssue("filename", str(exc))]) from None
        return UploadRequest(
            filename=filename, content_type=content_type, size=request.size,
            sha256=request.sha256.lower() if request.sha256 else None,
            requested_by=principal.username, requested_at=iso(self._clock()), grant_id=self._new_grant_id(),
        )

    def _grants(self, document: DocumentRecord, upload: UploadRequest) -> dict[str, str]:
        """The document's open grants with the upload's, which expires with its form."""
        now = datetime.fromisoformat(upload.requested_at)
        grants = grants_with(document, upload.grant_id or "", now + timedelta(seconds=self._upload_expires), now)
        if grants is None:
            raise Conflict(
                f"document {document.id} has {MAX_OPEN_GRANTS} unused upload forms; use one or let them expire",
            )
        return grants

    def _ticket(self, document: DocumentRecord, upload: UploadRequest) -> UploadTicket:
        metadata = {
            "case-id": document.case_id, "document-id": document.id, "requested-by": upload.requested_by,
            GRANT_METADATA: upload.grant_id or "",
        }
        if upload.sha256:
            metadata["sha256"] = upload.sha256
        form = self._storage.upload_form(
            object_key(document.case_id, document.id), upload.content_type, upload.size, self._upload_expires, metadata,
        )
        return UploadTicket(document_id=document.id, upload=form, expires_in=self._upload_expires, max_size=upload.size)

    def _visible_case(self, principal: Principal, case_id: str) -> Case:
        case = self._cases.get_case(case_id)
        if case is None or not can_view(principal, case):
            raise NotFound(f"case {case_id} not found")
        return case

    def _visible_document(self, principal: Principal, case_id: str, document_id: str) -> DocumentRecord:
        document = self._store.get_document(case_id, document_id)
        if document is None or (document.deleted and not _sees_deleted(principal)):
            raise NotFound(f"document {document_id} not found")
        return document

    def _case(self, case_id: str) -> Case:
        case = self._cases.get_case(case_id)
        if case is None:
            raise NotFound(f"case {case_id} not found")
        return case

    def _version(self, case_id: str, document_id: str, version_id: str) -> VersionRecord:
        version = self._store.get_version(case_id, document_id, version_id)
        if version is None:
            raise NotFound(f"document {document_id} of case {case_id} has no version {version_id}")
        return version


def _refuse_if_closed(case: Case) -> None:
    if case.status == CaseStatus.CLOSED:
        raise Conflict(f"case {case.id} is closed: no new documents; reopen it first")


def _refuse_download(principal: Principal, version: VersionRecord) -> bool:
    """Only verified (READY) content leaves the system; admins may fetch a QUARANTINED version to review it
    (True: the download is recorded as a quarantine override). Anything not yet verified is refused (409)."""
    if version.rejected is not None:
        raise Conflict(
            f"upload {version.version_id} was rejected: {version.rejected}", [FieldIssue("versionId", "rejected")],
        )
    if version.status == VersionStatus.READY:
        return False
    if version.status == VersionStatus.QUARANTINED:
        if Role.ADMIN in principal.roles:
            return True
        raise Conflict(
            f"version {version.version_id} is quarantined: {'; '.join(version.reasons) or 'see the document'}",
            [FieldIssue("versionId", "quarantined")],
        )
    raise Conflict(
        f"version {version.version_id} is {version.status.value}: it can be downloaded once processing has "
        "verified it (status READY)",
        [FieldIssue("versionId", f"{version.status.value.lower()}, not yet verified")],
    )


def _declared(upload: UploadRequest) -> dict[str, Any]:
    return {
        "filename": upload.filename, "contentType": upload.content_type, "size": upload.size, "sha256": upload.sha256,
    }


def _sees_deleted(principal: Principal) -> bool:
    return bool(principal.roles & {Role.ADMIN, Role.AUDITOR})

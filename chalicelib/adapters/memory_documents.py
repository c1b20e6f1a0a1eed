"""In-memory twins of the DynamoDB document store and of the S3 object storage, for unit tests. The store
shares the in-memory case repository's lock, cases and events, so a document change and the case's audit
head move together, as one DynamoDB transaction does; the contract tests keep it honest."""
from __future__ import annotations

from typing import Mapping, Optional
from urllib.parse import urlencode

from ..domain.documents import DocumentChange, DocumentRecord, LegalHold, UploadForm, VersionRecord, no_hold
from ..ports import StaleWrite
from .memory import InMemoryCaseRepository


class InMemoryDocumentStore:
    def __init__(self, cases: InMemoryCaseRepository) -> None:
        self._cases = cases
        self._lock = cases._lock
        self.documents: dict[tuple[str, str], DocumentRecord] = {}
        self.versions: dict[tuple[str, str, str], VersionRecord] = {}
        self.holds: dict[str, LegalHold] = {}

    def apply(self, change: DocumentChange) -> None:
        with self._lock:
            self._check(change)
            if change.events:
                head = change.events[-1]
                case = self._cases.cases[change.case_id]
                moved = case.model_copy(update={"audit_seq": head.seq, "audit_hash": head.hash})
                self._cases.cases[change.case_id] = moved
                self._cases.events[change.case_id].extend(change.events)
            for write in change.documents:
                self.documents[(write.document.case_id, write.document.id)] = write.document
            for vwrite in change.versions:
                v = vwrite.version
                self.versions[(v.case_id, v.document_id, v.version_id)] = v
            if change.hold is not None:
                self.holds[change.case_id] = change.hold.hold

    def _check(self, change: DocumentChange) -> None:
        case = self._cases.cases.get(change.case_id)
        if case is None or case.audit_seq != change.expected_audit_seq:
            raise StaleWrite()
        for write in change.documents:
            current = self.documents.get((write.document.case_id, write.document.id))
            if not _matches(current.revision if current else None, write.expected_revision):
                raise StaleWrite()
        for vwrite in change.versions:
            v = vwrite.version
            current_version = self.versions.get((v.case_id, v.document_id, v.version_id))
            if not _matches(current_version.revision if current_version else None, vwrite.expected_revision):
                raise StaleWrite()
        hold = self.holds.get(change.case_id)
        if change.hold is not None and (hold.revision if hold else 0) != change.hold.expected_revision:
            raise StaleWrite()
        if change.requires_no_hold and hold is not None and hold.enabled:
            raise StaleWrite()

    def get_document(self, case_id: str, document_id: str) -> Optional[DocumentRecord]:
        return self.documents.get((case_id, document_id))

    def list_documents(self, case_id: str) -> tuple[list[DocumentRecord], list[VersionRecord]]:
        with self._lock:
            documents = sorted((d for (c, _), d in self.documents.items() if c == case_id), key=lambda d: d.id)
            versions = sorted(
                (v for (c, _, _), v in self.versions.items() if c == case_id),
                key=lambda v: (v.document_id, v.version_id),
            )
        return documents, versions

    def list_versions(self, case_id: str, document_id: str) -> list[VersionRecord]:
        with self._lock:
            return sorted(
                (v for (c, d, _), v in self.versions.items() if (c, d) == (case_id, document_id)),
                key=lambda v: v.version_id,
            )

    def get_version(self, case_id: str, document_id: str, version_id: str) -> Optional[VersionRecord]:
        return self.versions.get((case_id, document_id, version_id))

    def get_legal_hold(self, case_id: str) -> LegalHold:
        return self.holds.get(case_id) or no_hold(case_id)


def _matches(current_revision: Optional[int], expected: Optional[int]) -> bool:
    return current_revision is None if expected is None else current_revision == expected


class InMemoryObjectStorage:
    """Stands in for S3: forms and links name what they grant (nothing is served); legal holds are recorded,
    or refused as by a bucket without Object Lock when `object_lock` is False."""

    def __init__(self, bucket: str = "documents", object_lock: bool = True) -> None:
        self.bucket, self.object_lock = bucket, object_lock
        self.legal_holds: dict[tuple[str, str], bool] = {}
        self.forms: list[dict[str, object]] = []
        self.objects: dict[str, list[bytes]] = {}  # key -> every version's body, oldest first

    def upload_form(
        self, key: str, content_type: str, max_size: int, expires_in: int, metadata: Mapping[str, str],
    ) -> UploadForm:
        self.forms.append({"key": key, "contentType": content_type, "maxSize": max_size, "expiresIn": expires_in})
        fields = {"key": key, "Content-Type": content_type, **{f"x-amz-meta-{k}": v for k, v in metadata.items()}}
        return UploadForm(url=f"https://{self.bucket}.s3.memory.invalid/", fields=fields)

    def download_url(self, key: str, version_id: str, content_type: str, disposition: str, expires_in: int) -> str:
        query = urlencode({
            "versionId": version_id, "response-content-type": content_type,
            "response-content-disposition": disposition, "X-Amz-Expires": expires_in,
        })
        return f"https://{self.bucket}.s3.memory.invalid/{key}?{query}"

    def put_object(self, key: str, body: bytes, content_type: str) -> Optional[str]:
        versions = self.objects.setdefault(key, [])
        versions.append(body)
        return f"v{len(versions)}"

    def set_legal_hold(self, key: str, version_id: str, enabled: bool) -> bool:
        if not self.object_lock:
            return False
        self.legal_holds[(key, version_id)] = enabled
        return True

"""Evidence exports: a case's processed documents handed over (to a court, a regulator, an insurer) with a
manifest that names every exported version by its SHA-256 and the case history's head at the time.

The manifest is stored next to the documents and its own SHA-256 goes into the case's hash chain as the
DOCUMENTS_EXPORTED custody event, so the receiver can check the files against the manifest and the manifest
against the history."""
from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Iterable, Optional

from pydantic import Field, StringConstraints

from .base import NOT_BLANK, ApiModel, RequestModel
from .documents import DocumentRecord, VersionRecord, VersionStatus, latest_version

MAX_EXPORT_DOCUMENTS = 200
MANIFEST_CONTENT_TYPE = "application/json"


class ExportRequest(RequestModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK)] = Field(
        description="why the evidence leaves the system (recorded in the custody event)",
    )
    document_ids: Optional[list[Annotated[str, StringConstraints(min_length=1, max_length=64)]]] = Field(
        default=None, min_length=1, max_length=MAX_EXPORT_DOCUMENTS,
        description="the documents to export; every document of the case when omitted",
    )


class ExportedVersion(ApiModel):
    document_id: str
    version_id: str
    kind: Optional[str] = None
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str = Field(description="a short-lived download URL of exactly this version")


class ExcludedDocument(ApiModel):
    document_id: str
    version_id: Optional[str] = None
    reason: str


class HistoryHead(ApiModel):
    seq: int
    hash: str


class EvidenceExport(ApiModel):
    export_id: str
    case_id: str
    created_at: str
    created_by: str
    reason: str
    history_head: HistoryHead = Field(description="the case history's last event before this export")
    manifest_key: str
    manifest_version_id: Optional[str] = None
    manifest_sha256: str
    manifest_url: str
    expires_in: int
    documents: list[ExportedVersion]
    excluded: list[ExcludedDocument] = Field(description="requested documents that were not exported, and why")


def manifest_key(case_id: str, export_id: str) -> str:
    # Outside `cases/`: the bucket's upload notification must not take a manifest for a document.
    return f"exports/{case_id}/{export_id}/manifest.json"


def select_versions(
    documents: Iterable[DocumentRecord], versions: list[VersionRecord], wanted: Optional[list[str]],
) -> tuple[list[VersionRecord], list[ExcludedDocument], list[int]]:
    """(the latest READY version of each chosen document, what was left out and why, the positions in
    `wanted` that name no document of the case). Only a document's latest version is evidence: an older
    READY version of a document whose newest upload is quarantined is not silently handed over instead."""
    by_id = {d.id: d for d in documents}
    unknown = [i for i, document_id in enumerate(wanted or []) if document_id not in by_id]
    if wanted:
        chosen = [by_id[i] for i in dict.fromkeys(wanted) if i in by_id]
    else:
        chosen = sorted(by_id.values(), key=lambda d: (d.created_at, d.id))
    exported: list[VersionRecord] = []
    excluded: list[ExcludedDocument] = []
    for document in chosen:
        latest = latest_version(document, versions)
        if document.deleted:
            excluded.append(ExcludedDocument(document_id=document.id, reason="deleted"))
        elif latest is None:
            excluded.append(ExcludedDocument(document_id=document.id, reason="no version uploaded"))
        elif latest.status == VersionStatus.QUARANTINED:
            why = "; ".join(latest.reasons) or "see the document"
            excluded.append(ExcludedDocument(
                document_id=document.id, version_id=latest.version_id, reason=f"quarantined: {why}",
            ))
        elif latest.status != VersionStatus.READY or not latest.sha256:
            excluded.append(ExcludedDocument(
                document_id=document.id, version_id=latest.version_id,
                reason=f"not processed yet ({latest.status.value})",
            ))
        else:
            exported.append(latest)
    return exported, excluded, unknown


def manifest(
    *, export_id: str, case_id: str, created_at: str, created_by: str, reason: str, head: HistoryHead,
    versions: Iterable[VersionRecord], kinds: dict[str, Optional[str]], excluded: Iterable[ExcludedDocument],
) -> bytes:
    """The manifest's bytes: canonical JSON (sorted keys, no spaces), so its SHA-256 is reproducible."""
    body: dict[str, Any] = {
        "exportId": export_id, "caseId": case_id, "createdAt": created_at, "createdBy": created_by, "reason": reason,
        "historyHead": head.to_api(),
        "documents": [
            {
                "documentId": v.document_id, "versionId": v.version_id, "kind": kinds.get(v.document_id),
                "filename": v.filename, "contentType": v.content_type, "size": v.size, "sha256": v.sha256,
                "key": v.key,
            }
            for v in versions
        ],
        "excluded": [e.to_api() for e in excluded],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

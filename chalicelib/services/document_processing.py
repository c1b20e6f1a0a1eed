"""Joins documents to the workflows: a registered object version starts the document workflow (the
Fargate processor); its result is recorded on the version; a recorded result may let the case's
DOCUMENTS stage resume. Called by the document workflow's Lambda tasks."""
from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..errors import DependencyUnavailable
from ..ports import ProcessingResults, WorkflowEngine

if TYPE_CHECKING:
    from .documents import DocumentService

log = logging.getLogger(__name__)


class ProcessingResultMissing(DependencyUnavailable):
    """The processor stopped without a result (it crashed or was killed): retried, then quarantined."""


def execution_name(document_id: str, version_id: str) -> str:
    """One run per object version (a re-delivered S3 event starts nothing new); S3 version ids may hold
    characters execution names may not, so they are hashed."""
    return f"{document_id}-{hashlib.sha256(version_id.encode()).hexdigest()[:24]}"


def start_processing(
    engine: Optional[Callable[[], WorkflowEngine]], case_id: str, document_id: str, version_id: str,
) -> bool:
    """Start the document workflow for one version; False when none is configured (the version stays PENDING).
    The document service calls it when S3 reports a new version (`on_version_registered`)."""
    if engine is None:
        log.warning("no document workflow is configured: version %s of %s stays PENDING", version_id, document_id)
        return False
    ids = {"caseId": case_id, "documentId": document_id, "versionId": version_id}
    engine().start(execution_name(document_id, version_id), ids)
    return True


class DocumentProcessing:
    def __init__(
        self, documents: DocumentService, engine: Optional[Callable[[], WorkflowEngine]], results: ProcessingResults,
        max_bytes: int,
    ) -> None:
        """`engine` None: no document workflow is configured (unit tests); versions then stay PENDING."""
        self._documents, self._engine, self._results, self._max_bytes = documents, engine, results, max_bytes

    def start(self, case_id: str, document_id: str, version_id: str) -> bool:
        return start_processing(self._engine, case_id, document_id, version_id)

    def prepare(
        self, case_id: str, document_id: str, version_id: str, execution_id: Optional[str] = None,
    ) -> dict[str, Any]:
        """Mark the version PROCESSING and give the container what it needs to process it (and the workflow
        execution's id, for its log lines)."""
        self._documents.mark_processing(case_id, document_id, version_id)
        version = self._documents.version(case_id, document_id, version_id)
        env = {
            "BUCKET": version.bucket, "KEY": version.key, "VERSION_ID": version.version_id, "CASE_ID": case_id,
            "DOCUMENT_ID": document_id, "EXPECTED_SHA256": version.declared_sha256 or "",
            "DECLARED_CONTENT_TYPE": version.content_type, "DECLARED_FILENAME": version.filename,
            "MAX_BYTES": str(self._max_bytes),
            **({"EXECUTION_ID": execution_id} if execution_id else {}),
        }
        return {"environment": [{"Name": name, "Value": value} for name, value in env.items()]}

    def finish(self, case_id: str, document_id: str, version_id: str) -> dict[str, Any]:
        result = self._results.get(case_id, document_id, version_id)
        if result is None:
            raise ProcessingResultMissing(f"no processing result for version {version_id} of document {document_id}")
        version = self._documents.record_processing_result(case_id, document_id, version_id, result)
        return {"status": getattr(version, "status", result.get("status"))}

    def fail(self, case_id: str, document_id: str, version_id: str, error: Optional[dict[str, Any]]) -> dict[str, Any]:
        reason = f"processing failed: {(error or {}).get('Error', 'unknown error')}"
        self._documents.record_processing_result(
            case_id, document_id, version_id, {"status": "QUARANTINED", "reasons": [reason]}
        )
        return {"status": "QUARANTINED"}

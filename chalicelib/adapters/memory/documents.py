"""In-memory twin of the DynamoDB document store, over the shared in-memory table."""
from __future__ import annotations

from typing import Optional

from ...domain.documents import DocumentRecord, LegalHold, VersionRecord, no_hold
from ...ports import StartKey
from .. import keyed_pages
from ..dynamo.keys import documents_list
from ..keyed_pages import in_memory
from .table import InMemoryTable


class InMemoryDocumentStore:
    def __init__(self, table: InMemoryTable) -> None:
        self._lock = table._lock
        self.documents, self.versions, self.holds = table.documents, table.versions, table.holds

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

    def documents_page(
        self, case_id: str, limit: int, start_key: StartKey,
    ) -> tuple[list[DocumentRecord], list[VersionRecord], StartKey]:
        with self._lock:
            read = in_memory(list(self.documents.values()))
            documents, next_key = keyed_pages.page(read, documents_list(case_id), limit, start_key)
            ids = {document.id for document in documents}
            versions = sorted(
                (v for (c, d, _), v in self.versions.items() if c == case_id and d in ids),
                key=lambda v: (v.document_id, v.version_id),
            )
        return documents, versions, next_key

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

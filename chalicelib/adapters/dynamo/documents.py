"""Documents on the table: a case's documents, the S3 object versions of each, its legal hold (an item apart
from the case item). Their writes are CaseChanges, conditional on the records' revisions."""
from __future__ import annotations

from typing import Optional

from ...domain.documents import DocumentRecord, LegalHold, VersionRecord, no_hold
from ...ports import StartKey
from .. import keyed_pages
from . import keys
from .errors import stored, translated
from .models import OnTable
from .pages import reader


class DynamoDocumentStore(OnTable):
    def get_document(self, case_id: str, document_id: str) -> Optional[DocumentRecord]:
        item = stored(self._m.document, keys.case_pk(case_id), keys.document_sk(document_id))
        return None if item is None else DocumentRecord.model_validate(item.body)

    def list_documents(self, case_id: str) -> tuple[list[DocumentRecord], list[VersionRecord]]:
        # Two exact prefixes, not "DOC": other items of the case (e.g. the processor's DOCRESULT#) start so too.
        document, version = self._m.document, self._m.version
        pk = keys.case_pk(case_id)
        with translated():
            documents = [
                DocumentRecord.model_validate(item.body)
                for item in document.query(pk, document.sk.startswith(keys.DOC_PREFIX), consistent_read=True)
            ]
            versions = [
                VersionRecord.model_validate(item.body)
                for item in version.query(pk, version.sk.startswith(keys.VERSION_PREFIX), consistent_read=True)
            ]
        return documents, versions

    def documents_page(
        self, case_id: str, limit: int, start_key: StartKey,
    ) -> tuple[list[DocumentRecord], list[VersionRecord], StartKey]:
        read = reader(self._m.document, lambda item: DocumentRecord.model_validate(item.body), consistent_read=True)
        documents, next_key = keyed_pages.page(read, keys.documents_list(case_id), limit, start_key)
        if not documents:
            return documents, [], next_key
        # The page's documents are neighbours in id order, and so are their versions (DOCVER#<docId>#...): one
        # Query reads the versions of exactly these documents.
        version = self._m.version
        first, last = keys.versions_prefix(documents[0].id), keys.versions_prefix(documents[-1].id)
        with translated():
            items = version.query(
                keys.case_pk(case_id), version.sk.between(first, last[:-1] + chr(ord(last[-1]) + 1)),
                consistent_read=True,
            )
            versions = [VersionRecord.model_validate(item.body) for item in items]
        return documents, versions, next_key

    def list_versions(self, case_id: str, document_id: str) -> list[VersionRecord]:
        version = self._m.version
        with translated():
            items = version.query(
                keys.case_pk(case_id), version.sk.startswith(keys.versions_prefix(document_id)), consistent_read=True,
            )
            return [VersionRecord.model_validate(item.body) for item in items]

    def get_version(self, case_id: str, document_id: str, version_id: str) -> Optional[VersionRecord]:
        item = stored(self._m.version, keys.case_pk(case_id), keys.version_sk(document_id, version_id))
        return None if item is None else VersionRecord.model_validate(item.body)

    def get_legal_hold(self, case_id: str) -> LegalHold:
        item = stored(self._m.hold, keys.case_pk(case_id), keys.LEGAL_HOLD_SK)
        if item is None:
            return no_hold(case_id)
        return LegalHold.model_validate({**item.body, "revision": int(item.revision)})

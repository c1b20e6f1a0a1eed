"""Documents on the cases table (single-table design, pynamodb).

Items (PK / SK):
  CASE#<caseId> / DOC#<documentId>                 a document: its latest version, latest upload request, deletion
  CASE#<caseId> / DOCVER#<documentId>#<versionId>  one S3 object version: sequencer, size, hashes, processing status
  CASE#<caseId> / LEGALHOLD                        the case's legal hold (apart from the case item, which it
                                                   does not touch)

Every change, with the case's audit head and custody events, is one TransactWriteItems conditional on the
records' revisions (a new record: that it does not exist) and on the chain's head: all of it or none of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ..domain.documents import LEGAL_HOLD_SK, DocumentChange, DocumentRecord, LegalHold, VersionRecord, no_hold
from .dynamodb import TableModels, _case_key, _event_sk, _stale_on_condition, _translated

DOC_PREFIX = "DOC#"
VERSION_PREFIX = "DOCVER#"


@dataclass(frozen=True)
class DocumentModels:
    document: Any
    version: Any
    hold: Any


@lru_cache(maxsize=8)
def document_models(models: TableModels) -> DocumentModels:
    """Item models for documents on the table of `models`, sharing its connection."""
    table_meta = models.case.Meta

    class Item(Model):
        Meta = table_meta
        pk = UnicodeAttribute(hash_key=True, attr_name="PK")
        sk = UnicodeAttribute(range_key=True, attr_name="SK")

    class DocumentItem(Item):
        body = JSONAttribute()
        revision = NumberAttribute()

    class VersionItem(Item):
        body = JSONAttribute()
        revision = NumberAttribute()
        status = UnicodeAttribute()

    class HoldItem(Item):
        body = JSONAttribute()
        revision = NumberAttribute()
        enabled = BooleanAttribute()

    shared = models.case._get_connection()
    for model in (DocumentItem, VersionItem, HoldItem):
        model._connection = shared
    return DocumentModels(DocumentItem, VersionItem, HoldItem)


def _document_sk(document_id: str) -> str:
    return f"{DOC_PREFIX}{document_id}"


def _version_sk(document_id: str, version_id: str) -> str:
    return f"{VERSION_PREFIX}{document_id}#{version_id}"


class DynamoDocumentStore:
    def __init__(self, models: TableModels) -> None:
        self._m = models
        self._d = document_models(models)

    def apply(self, change: DocumentChange) -> None:
        m, d = self._m, self._d
        pk = _case_key(change.case_id)
        with _stale_on_condition(), _translated(), TransactWrite(connection=m.connection) as tx:
            if change.events:
                head = change.events[-1]
                tx.update(
                    m.case(pk, "CASE"),
                    actions=[m.case.audit_seq.set(head.seq), m.case.audit_hash.set(head.hash)],
                    condition=m.case.audit_seq == change.expected_audit_seq,  # fails on a missing case, too
                )
                for event in change.events:
                    tx.save(
                        m.event(pk, _event_sk(event.seq), body=event.to_api()), condition=m.event.pk.does_not_exist(),
                    )
            for write in change.documents:
                document = write.document
                tx.save(
                    d.document(pk, _document_sk(document.id), body=document.to_api(), revision=document.revision),
                    condition=d.document.pk.does_not_exist() if write.expected_revision is None
                    else d.document.revision == write.expected_revision,
                )
            for vwrite in change.versions:
                version = vwrite.version
                tx.save(
                    d.version(
                        pk, _version_sk(version.document_id, version.version_id), body=version.to_api(),
                        revision=version.revision, status=version.status.value,
                    ),
                    condition=d.version.pk.does_not_exist() if vwrite.expected_revision is None
                    else d.version.revision == vwrite.expected_revision,
                )
            if change.hold is not None:
                hold = change.hold.hold
                tx.save(
                    d.hold(
                        pk, LEGAL_HOLD_SK, body=hold.to_api(), revision=change.hold.hold.revision, enabled=hold.enabled,
                    ),
                    condition=d.hold.pk.does_not_exist() if change.hold.expected_revision == 0
                    else d.hold.revision == change.hold.expected_revision,
                )
            elif change.requires_no_hold:
                unheld = d.hold.pk.does_not_exist() | (d.hold.enabled == False)  # noqa: E712
                tx.condition_check(d.hold, pk, LEGAL_HOLD_SK, condition=unheld)

    def get_document(self, case_id: str, document_id: str) -> Optional[DocumentRecord]:
        document = self._d.document
        with _translated():
            try:
                item = document.get(_case_key(case_id), _document_sk(document_id), consistent_read=True)
            except document.DoesNotExist:
                return None
        return DocumentRecord.model_validate(item.body)

    def list_documents(self, case_id: str) -> tuple[list[DocumentRecord], list[VersionRecord]]:
        # Two exact prefixes, not "DOC": other items of the case (e.g. the processor's DOCRESULT#) start so too.
        document, version = self._d.document, self._d.version
        pk = _case_key(case_id)
        with _translated():
            documents = [
                DocumentRecord.model_validate(item.body)
                for item in document.query(pk, document.sk.startswith(DOC_PREFIX), consistent_read=True)
            ]
            versions = [
                VersionRecord.model_validate(item.body)
                for item in version.query(pk, version.sk.startswith(VERSION_PREFIX), consistent_read=True)
            ]
        return documents, versions

    def list_versions(self, case_id: str, document_id: str) -> list[VersionRecord]:
        version = self._d.version
        with _translated():
            items = version.query(
                _case_key(case_id), version.sk.startswith(f"{VERSION_PREFIX}{document_id}#"), consistent_read=True,
            )
            return [VersionRecord.model_validate(item.body) for item in items]

    def get_version(self, case_id: str, document_id: str, version_id: str) -> Optional[VersionRecord]:
        version = self._d.version
        with _translated():
            try:
                item = version.get(_case_key(case_id), _version_sk(document_id, version_id), consistent_read=True)
            except version.DoesNotExist:
                return None
        return VersionRecord.model_validate(item.body)

    def get_legal_hold(self, case_id: str) -> LegalHold:
        hold = self._d.hold
        with _translated():
            try:
                item = hold.get(_case_key(case_id), LEGAL_HOLD_SK, consistent_read=True)
            except hold.DoesNotExist:
                return no_hold(case_id)
        return LegalHold.model_validate({**item.body, "revision": int(item.revision)})

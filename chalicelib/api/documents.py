"""Documents: uploads straight to S3 with presigned POSTs, versions, downloads, soft deletion, evidence exports
and the case's legal hold. S3's notification of each upload reaches `document_tasks.on_document_uploaded`."""
from __future__ import annotations

from ..bootstrap import container
from ..domain.documents import (
    Document, DocumentDetail, DocumentList, DocumentUpload, DownloadLink, LegalHold, LegalHoldRequest, LegalHoldView,
    UploadTicket,
)
from ..domain.exports import EvidenceExport, ExportRequest
from ..domain.queries import DEFAULT_PAGE, PAGE
from ..errors import Conflict, Forbidden
from ..ratelimit import DOWNLOADS
from ..web import ApiRequest, Routes
from . import blueprint

routes = Routes(blueprint())


@routes.route(
    "/cases/{case_id}/documents", "GET", summary="The case's documents, by id", response=DocumentList, query=PAGE,
)
def list_documents(req: ApiRequest[None], case_id: str) -> DocumentList:
    return container().documents.list(req.principal, case_id, req.int_query("limit", DEFAULT_PAGE), req.query("cursor"))


routes.command(
    "/cases/{case_id}/documents", lambda: container().documents.request_upload, name="request_document_upload",
    summary="Start a document: its record and a presigned S3 POST bounded in size and type (caseworkers, "
            "supervisors, admins)",
    body=DocumentUpload, response=UploadTicket, status=201,
)


@routes.route(
    "/cases/{case_id}/documents/{document_id}", "GET", summary="A document with its versions",
    response=DocumentDetail,
)
def get_document(req: ApiRequest[None], case_id: str, document_id: str) -> DocumentDetail:
    return container().documents.get(req.principal, case_id, document_id)


routes.command(
    "/cases/{case_id}/documents/{document_id}/versions", lambda: container().documents.request_new_version,
    name="request_document_version", summary="Upload a new version: a presigned S3 POST for the document's own key",
    body=DocumentUpload, response=UploadTicket, status=201,
)


@routes.route(
    "/cases/{case_id}/documents/{document_id}/download", "GET",
    summary="A short-lived download URL of one version (the latest by default); the download is recorded",
    response=DownloadLink, query=("versionId",), raises=(Conflict,), budget=DOWNLOADS,  # each one is audited
)
def download_document(req: ApiRequest[None], case_id: str, document_id: str) -> DownloadLink:
    return container().documents.download(req.principal, case_id, document_id, req.query("versionId"))


@routes.route(
    "/cases/{case_id}/documents/{document_id}", "DELETE",
    summary="Delete a document softly: marked deleted, every version kept (admins; refused under legal hold)",
    response=Document, raises=(Forbidden, Conflict),
)
def delete_document(req: ApiRequest[None], case_id: str, document_id: str) -> Document:
    return container().documents.delete(req.principal, case_id, document_id)


routes.command(
    "/cases/{case_id}/exports", lambda: container().documents.export, name="export_documents",
    summary="Export evidence: download URLs of the documents' latest processed versions and a manifest whose "
            "SHA-256 is recorded in the case history (supervisors, admins, auditors)",
    body=ExportRequest, response=EvidenceExport, status=201, budget=DOWNLOADS,  # download URLs, audited
)


@routes.route("/cases/{case_id}/legal-hold", "GET", summary="The case's legal hold", response=LegalHold)
def get_legal_hold(req: ApiRequest[None], case_id: str) -> LegalHold:
    return container().documents.legal_hold(req.principal, case_id)


routes.command(
    "/cases/{case_id}/legal-hold", lambda: container().documents.set_legal_hold, name="put_legal_hold", method="PUT",
    summary="Set or lift the case's legal hold, and the S3 Object Lock legal hold of its document versions (admins)",
    body=LegalHoldRequest, response=LegalHoldView,
)

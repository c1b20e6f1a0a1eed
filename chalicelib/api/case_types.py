"""Case types: anyone signed in reads them; admins create them, publish new versions (If-Match) and retire them.
A case keeps the version it was opened under."""
from __future__ import annotations

from ..bootstrap import container
from ..domain.case_types import (
    VERSION_NUMBER, CaseType, CaseTypeCreate, CaseTypeDefinition, CaseTypeList, fields_schema,
)
from ..domain.queries import DEFAULT_PAGE, PAGE
from ..errors import Conflict, FieldIssue, Forbidden, InvalidInput
from ..web import ApiRequest, Reply, Routes
from . import blueprint

routes = Routes(blueprint())


def _reply(case_type: CaseType, created: bool = False) -> Reply:
    headers = {"ETag": f'"{case_type.version}"'}
    if created:
        headers["Location"] = f"/case-types/{case_type.id}"
    return Reply(case_type, headers)


@routes.route("/case-types", "GET", summary="The case types (current versions, retired ones marked), by id",
              response=CaseTypeList, query=PAGE)
def list_case_types(req: ApiRequest[None]) -> CaseTypeList:
    return container().case_types.list(req.principal, req.int_query("limit", DEFAULT_PAGE), req.query("cursor"))


@routes.route(
    "/case-types", "POST", summary="Create a case type: its version 1 (admins)", body=CaseTypeCreate,
    response=CaseType, status=201, raises=(Forbidden, Conflict), etag=True,
)
def create_case_type(req: ApiRequest[CaseTypeCreate]) -> Reply:
    return _reply(container().case_types.create(req.principal, req.body), created=True)


@routes.route("/case-types/{case_type_id}", "GET", summary="A case type's current version", response=CaseType,
              etag=True)
def get_case_type(req: ApiRequest[None], case_type_id: str) -> Reply:
    return _reply(container().case_types.get(req.principal, case_type_id))


@routes.route(
    "/case-types/{case_type_id}", "PUT",
    summary="Publish a case type's next version from the one If-Match names; running cases keep theirs (admins)",
    body=CaseTypeDefinition, response=CaseType, headers=("If-Match",), raises=(Forbidden, Conflict), etag=True,
)
def publish_case_type(req: ApiRequest[CaseTypeDefinition], case_type_id: str) -> Reply:
    published = container().case_types.publish(req.principal, case_type_id, req.body, req.header("If-Match"))
    return _reply(published)


@routes.route(
    "/case-types/{case_type_id}/versions/{version}", "GET", summary="One published version of a case type",
    response=CaseType, validated_params=("version",),
)
def get_case_type_version(req: ApiRequest[None], case_type_id: str, version: str) -> CaseType:
    if not VERSION_NUMBER.match(version):
        raise InvalidInput("invalid version", [FieldIssue("version", "must be a whole number from 1")])
    return container().case_types.get_version(req.principal, case_type_id, int(version))


@routes.route(
    "/case-types/{case_type_id}/schema", "GET", query=("version",), etag=True,
    summary="A case type version's custom fields as JSON Schema (draft 2020-12): what a case's `fields` must be "
            "(the current version, or ?version=n)",
)
def case_type_schema(req: ApiRequest[None], case_type_id: str) -> Reply:
    version = req.query("version")
    if version is not None and not VERSION_NUMBER.match(version):
        raise InvalidInput("invalid version", [FieldIssue("version", "must be a whole number from 1")])
    types = container().case_types
    case_type = types.get(req.principal, case_type_id) if version is None else types.get_version(
        req.principal, case_type_id, int(version),
    )
    # application/json, as every answer of the API: clients and the console read it as they read the rest,
    # and the document's `$schema` says it is JSON Schema.
    return Reply(fields_schema(case_type), {"ETag": f'"{case_type.version}"'})


@routes.route(
    "/case-types/{case_type_id}/retire", "POST",
    summary="Retire a case type: no new cases of it; running ones go on (admins)", response=CaseType,
    raises=(Forbidden, Conflict), etag=True,
)
def retire_case_type(req: ApiRequest[None], case_type_id: str) -> Reply:
    return _reply(container().case_types.retire(req.principal, case_type_id))

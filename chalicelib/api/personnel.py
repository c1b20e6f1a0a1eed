"""The personnel directory: who is in which team, with which skills."""
from __future__ import annotations

from ..bootstrap import container
from ..domain.personnel import Person, PersonList, PersonUpsert
from ..domain.queries import DEFAULT_PAGE, PAGE
from ..errors import Forbidden
from ..web import ApiRequest, Routes
from . import blueprint

routes = Routes(blueprint())


@routes.route(
    "/personnel/{username}", "PUT", summary="File a person in the personnel directory (admins)", body=PersonUpsert,
    response=Person, raises=(Forbidden,),
)
def put_person(req: ApiRequest[PersonUpsert], username: str) -> Person:
    return container().personnel.put(req.principal, username, req.body)


@routes.route(
    "/personnel", "GET", summary="The personnel directory, or one team of it", response=PersonList,
    query=("team", *PAGE), raises=(Forbidden,),
)
def list_personnel(req: ApiRequest[None]) -> PersonList:
    return container().personnel.list(
        req.principal, req.query("team"), req.int_query("limit", DEFAULT_PAGE), req.query("cursor"),
    )


@routes.route(
    "/personnel/{username}", "GET", summary="A person's directory entry", response=Person, raises=(Forbidden,),
)
def get_person(req: ApiRequest[None], username: str) -> Person:
    return container().personnel.get(req.principal, username)

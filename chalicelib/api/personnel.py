"""The personnel directory: who is in which team, with which skills."""
from __future__ import annotations

from ..bootstrap import container
from ..domain.delegations import DelegationRequest, DelegationView
from ..domain.personnel import Person, PersonList, PersonUpsert
from ..domain.queries import DEFAULT_PAGE, PAGE
from ..errors import Conflict, Forbidden
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


@routes.route(
    "/personnel/{username}/delegation", "PUT",
    summary="Let someone decide your approvals in your name (onBehalfOf) for a period (the person, an approver; "
            "or an admin); replaces the current delegation",
    body=DelegationRequest, response=DelegationView, raises=(Forbidden, Conflict),
)
def put_delegation(req: ApiRequest[DelegationRequest], username: str) -> DelegationView:
    return container().delegations.put(req.principal, username, req.body)


@routes.route(
    "/personnel/{username}/delegation", "GET",
    summary="A person's delegation of approvals and its log (the person, their delegate, supervisors, admins, "
            "auditors)",
    response=DelegationView, raises=(Forbidden,),
)
def get_delegation(req: ApiRequest[None], username: str) -> DelegationView:
    return container().delegations.get(req.principal, username)


@routes.route(
    "/personnel/{username}/delegation", "DELETE", summary="Revoke a person's delegation (the person, or an admin)",
    response=DelegationView, raises=(Forbidden, Conflict),
)
def revoke_delegation(req: ApiRequest[None], username: str) -> DelegationView:
    return container().delegations.revoke(req.principal, username)

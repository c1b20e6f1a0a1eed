"""Business calendars: admins define them (create or replace, If-Match honoured when sent); everyone reads them."""
from __future__ import annotations

from ..bootstrap import container
from ..domain.calendars import Calendar, CalendarList, CalendarRequest
from ..domain.queries import DEFAULT_PAGE, PAGE
from ..errors import Conflict, Forbidden
from ..web import ApiRequest, Reply, Routes
from . import blueprint

routes = Routes(blueprint())


def _calendar_reply(calendar: Calendar, created: bool = False) -> Reply:
    headers = {"ETag": f'"{calendar.version}"'}
    if created:
        headers["Location"] = f"/calendars/{calendar.id}"
    return Reply(calendar, headers, created)


@routes.route(
    "/calendars/{calendar_id}", "PUT",
    summary="Define a business calendar: created (201) or replaced (200); If-Match, when sent, must name the "
            "current version (admins)",
    body=CalendarRequest, response=Calendar, headers=("If-Match",), raises=(Forbidden, Conflict), etag=True,
    upsert=True, validated_params=("calendar_id",),
)
def put_calendar(req: ApiRequest[CalendarRequest], calendar_id: str) -> Reply:
    calendar, created = container().calendars.put(req.principal, calendar_id, req.body, req.header("If-Match"))
    return _calendar_reply(calendar, created)


@routes.route("/calendars", "GET", summary="The business calendars, by id", response=CalendarList, query=PAGE)
def list_calendars(req: ApiRequest[None]) -> CalendarList:
    return container().calendars.list(req.principal, req.int_query("limit", DEFAULT_PAGE), req.query("cursor"))


@routes.route(
    "/calendars/{calendar_id}", "GET", summary="A business calendar", response=Calendar, etag=True,
    validated_params=("calendar_id",),  # ids with '.', as PUT takes them; one no calendar can have is 404
)
def get_calendar(req: ApiRequest[None], calendar_id: str) -> Reply:
    return _calendar_reply(container().calendars.get(req.principal, calendar_id))

"""Business calendars as admins define them (`PUT /calendars/{id}` creates or replaces one, If-Match honoured when
sent) and everyone reads them; `calendar(id)` is what case types and SLA due dates look a calendar up with, through
the read cache (a PUT deletes the entry, the TTL bounds what a lost delete costs)."""
from __future__ import annotations

import logging
from typing import Any, Optional

from ..cache import Cache
from ..cache.read_through import ReadThrough
from ..domain.access import Action, Principal, require
from ..domain.calendars import CALENDAR_ID, Calendar, CalendarList, CalendarRequest, check_definition
from ..errors import Conflict, FieldIssue, InvalidInput, NotFound, PreconditionFailed
from ..ports import CalendarStore, StaleWrite
from .cursor import paged
from .validation import parse, parse_if_match

log = logging.getLogger(__name__)
CACHE_SECONDS = 60

# The calendar a fresh system starts with: office hours in the UK, Monday to Friday, no holidays (each organisation
# adds its own; public holidays differ by country and year).
STANDARD = Calendar.model_validate({
    "id": "standard", "name": "Office hours (Mon-Fri 09:00-17:00, Europe/London)", "timeZone": "Europe/London",
    "workingHours": {day: [{"start": "09:00", "end": "17:00"}] for day in ("MON", "TUE", "WED", "THU", "FRI")},
})


class CalendarService:
    def __init__(self, store: CalendarStore, cache: Cache, cache_seconds: int = CACHE_SECONDS) -> None:
        self._store = store
        self._cached = ReadThrough[Calendar](cache, cache_seconds, Calendar.to_api, Calendar.model_validate)

    def calendar(self, calendar_id: str) -> Optional[Calendar]:
        """The calendar, or None when there is none (an id no calendar can have included); cached briefly."""
        if not CALENDAR_ID.match(calendar_id):
            return None
        return self._cached.get(_cache_key(calendar_id), lambda: self._store.get_calendar(calendar_id))

    def get(self, principal: Principal, calendar_id: str) -> Calendar:
        """Any role may read a calendar: due dates are computed on it."""
        found = self.calendar(calendar_id)
        if found is None:
            raise NotFound(f"calendar {calendar_id} not found")
        return found

    def list(self, principal: Principal, limit: int, page_cursor: Optional[str]) -> CalendarList:
        items, next_cursor = paged("calendars", {}, limit, page_cursor, self._store.calendars_page)
        return CalendarList(items=items, next_cursor=next_cursor)

    def put(
        self, principal: Principal, calendar_id: str, payload: Any, if_match: Optional[str],
    ) -> tuple[Calendar, bool]:
        """Create the calendar (version 1) or replace it (the next version); with If-Match only while the stored
        version is the one it names (412 otherwise, also when there is none). Returns it and whether it was created."""
        require(principal, Action.MANAGE_CALENDARS)
        if not CALENDAR_ID.match(calendar_id):
            raise InvalidInput("invalid calendar id", [FieldIssue(
                "calendarId", "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            )])
        request = parse(CalendarRequest, payload)
        expected = None if if_match is None else parse_if_match(if_match, "calendar")
        defined = check_definition(calendar_id, request, 1)  # a bad definition is a 400 whatever is stored
        current = self._store.get_calendar(calendar_id)
        if expected is not None and (current is None or current.version != expected):
            raise PreconditionFailed(f"calendar {calendar_id} is not at version {expected}; read it again")
        calendar = defined.model_copy(update={"version": current.version + 1 if current else 1})
        try:
            self._store.save_calendar(calendar)
        except StaleWrite:
            if expected is not None:
                raise PreconditionFailed(f"calendar {calendar_id} changed meanwhile; read it again") from None
            raise Conflict(f"calendar {calendar_id} changed meanwhile; send it again") from None
        self._cached.cache.delete(_cache_key(calendar_id))
        log.info(
            "calendar %s saved", calendar_id,
            extra={"event": "calendar_saved", "calendar": calendar_id, "version": calendar.version,
                   "actor": principal.username},
        )
        return calendar, current is None


def seed_calendars(store: CalendarStore) -> bool:
    """Store the standard calendar unless one of its id is stored (an admin's edits survive a re-seed); whether
    it was stored now."""
    if store.get_calendar(STANDARD.id) is not None:
        return False
    try:
        store.save_calendar(STANDARD)
    except StaleWrite:  # another seeder got there first
        return False
    return True


def _cache_key(calendar_id: str) -> str:
    return f"calendar:{calendar_id}"

"""In-memory twin of the DynamoDB calendar store."""
from __future__ import annotations

import threading
from typing import Optional

from ...domain.calendars import Calendar
from ...ports import StaleWrite, StartKey
from ..dynamo.keys import calendars_list
from ..keyed_pages import in_memory, page


class InMemoryCalendarStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calendars: dict[str, Calendar] = {}

    def get_calendar(self, calendar_id: str) -> Optional[Calendar]:
        with self._lock:
            return self._calendars.get(calendar_id)

    def save_calendar(self, calendar: Calendar) -> None:
        with self._lock:
            current = self._calendars.get(calendar.id)
            if (current.version if current else 0) != calendar.version - 1:
                raise StaleWrite()
            self._calendars[calendar.id] = calendar

    def calendars_page(self, limit: int, start_key: StartKey) -> tuple[list[Calendar], StartKey]:
        with self._lock:
            calendars = list(self._calendars.values())
        return page(in_memory(calendars), calendars_list(), limit, start_key)

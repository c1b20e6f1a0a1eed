"""Business calendars on the table, each kept as its model's JSON under one partition (keys.py), written only at the
version read."""
from __future__ import annotations

from typing import Optional

from pynamodb.exceptions import PutError

from ...domain.calendars import Calendar
from ...ports import StaleWrite, StartKey
from ..keyed_pages import page
from . import keys
from .errors import response_code, stored, translated
from .models import OnTable
from .pages import reader


class DynamoCalendarStore(OnTable):
    def get_calendar(self, calendar_id: str) -> Optional[Calendar]:
        item = stored(self._m.calendar, keys.CALENDARS_KEY, keys.calendar_sk(calendar_id))
        return None if item is None else Calendar.model_validate(item.body)

    def save_calendar(self, calendar: Calendar) -> None:
        item = self._m.calendar
        row = item(keys.CALENDARS_KEY, keys.calendar_sk(calendar.id), body=calendar.to_api(), revision=calendar.version)
        condition = item.pk.does_not_exist() if calendar.version == 1 else item.revision == calendar.version - 1
        with translated():
            try:
                row.save(condition=condition)
            except PutError as exc:
                if response_code(exc) == "ConditionalCheckFailedException":
                    raise StaleWrite() from None
                raise

    def calendars_page(self, limit: int, start_key: StartKey) -> tuple[list[Calendar], StartKey]:
        read = reader(self._m.calendar, lambda item: Calendar.model_validate(item.body), consistent_read=True)
        return page(read, keys.calendars_list(), limit, start_key)

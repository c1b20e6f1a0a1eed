"""Business calendars: when an organisation works, so that SLAs and task due dates run in working time.

This module holds the calendar's shape; working-time arithmetic builds on it."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from .base import ApiModel

CalendarId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
HourMinute = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]
Weekday = Annotated[str, StringConstraints(pattern=r"^(MON|TUE|WED|THU|FRI|SAT|SUN)$")]


class WorkingPeriod(ApiModel):
    start: HourMinute = Field(description="HH:MM, local time")
    end: HourMinute = Field(description="HH:MM, local time, after start (24:00 for midnight)")


class Calendar(ApiModel):
    """When work happens: per weekday a list of periods in the calendar's time zone, minus holidays."""

    id: CalendarId
    name: str = ""
    time_zone: str = Field(description="IANA time zone, e.g. Europe/Amsterdam")
    working_hours: dict[Weekday, list[WorkingPeriod]] = Field(
        description="per weekday (MON..SUN) the working periods; a day not named is not worked",
    )
    holidays: list[str] = Field(default=[], description="dates (YYYY-MM-DD) not worked, in the calendar's zone")
    version: int = Field(default=1, description="1 at creation, +1 on every change")

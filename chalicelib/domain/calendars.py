"""Business calendars: when an organisation works, so that SLAs and task due dates run in working time.

This module holds the calendar's shape and the checks of a definition; working_time.py does the arithmetic."""
from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StringConstraints

from ..errors import FieldIssue, InvalidInput
from .base import NOT_BLANK, ApiModel, ApiPage, RequestModel

CALENDAR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CalendarId = Annotated[str, StringConstraints(pattern=CALENDAR_ID.pattern)]
HourMinute = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]
Weekday = Annotated[str, StringConstraints(pattern=r"^(MON|TUE|WED|THU|FRI|SAT|SUN)$")]

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")  # in date.weekday() order
MAX_PERIODS_PER_DAY = 12
MAX_HOLIDAYS = 1000  # decades of public holidays; bounds the definition's size and the walk's lookups
_TIME_PATTERN = r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$"
_HOUR_MINUTE = re.compile(_TIME_PATTERN)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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


class CalendarList(ApiPage):
    items: list[Calendar]


# The request takes times, weekdays and dates as text and `check_definition` reads them, so that every refusal
# names its path alike (`workingHours.MON[1].end`, `holidays[2]`); the patterns are documented all the same.
class PeriodRequest(RequestModel):
    start: str = Field(description="HH:MM, local time", json_schema_extra={"pattern": _TIME_PATTERN})
    end: str = Field(
        description="HH:MM, local time, after start (24:00 for midnight)", json_schema_extra={"pattern": _TIME_PATTERN},
    )


class CalendarRequest(RequestModel):
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    time_zone: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NOT_BLANK)] = Field(
        description="IANA time zone, e.g. Europe/Amsterdam",
    )
    working_hours: dict[str, list[PeriodRequest]] = Field(
        description="per weekday (MON..SUN) the working periods, at most "
                    f"{MAX_PERIODS_PER_DAY} a day, none overlapping; a day not named is not worked",
        json_schema_extra={"propertyNames": {"enum": list(WEEKDAYS)}},
    )
    holidays: list[str] = Field(
        default=[], max_length=MAX_HOLIDAYS, json_schema_extra={"items": {"type": "string", "format": "date"}},
        description="dates (YYYY-MM-DD) not worked, in the calendar's zone",
    )


def zone_of(name: str) -> Optional[ZoneInfo]:
    """The IANA zone of that name, or None when there is none (also for names that are no zone key at all)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "Europe"
        return None


def minutes(hour_minute: str) -> int:
    hours, mins = hour_minute.split(":")
    return int(hours) * 60 + int(mins)


def check_definition(calendar_id: str, request: CalendarRequest, version: int) -> Calendar:
    """The calendar a request defines, or InvalidInput naming every path at fault: an unknown time zone, a time
    or weekday that is none, a period that does not end after it starts, overlapping periods, a holiday that is
    not a real date, or no working time in any week (every walk through it would find none)."""
    issues: list[FieldIssue] = []
    if zone_of(request.time_zone) is None:
        issues.append(FieldIssue("timeZone", "not an IANA time zone, e.g. Europe/Amsterdam"))
    for day, periods in request.working_hours.items():
        issues += _day_issues(f"workingHours.{day}", day, periods)
    for i, holiday in enumerate(request.holidays):
        if not _is_date(holiday):
            issues.append(FieldIssue(f"holidays[{i}]", "not a date (YYYY-MM-DD)"))
    if not issues and not any(request.working_hours.values()):
        issues.append(FieldIssue("workingHours", "no working time in any week: name at least one period"))
    if issues:
        raise InvalidInput("the calendar is invalid", issues)
    return Calendar(
        id=calendar_id, name=request.name, time_zone=request.time_zone,
        working_hours={day: _as_periods(periods) for day, periods in sorted(
            request.working_hours.items(), key=lambda entry: WEEKDAYS.index(entry[0]),
        )},
        holidays=sorted(set(request.holidays)), version=version,
    )


def _day_issues(path: str, day: str, periods: list[PeriodRequest]) -> list[FieldIssue]:
    if day not in WEEKDAYS:
        return [FieldIssue(path, f"not a weekday: one of {', '.join(WEEKDAYS)}")]
    if len(periods) > MAX_PERIODS_PER_DAY:
        return [FieldIssue(path, f"at most {MAX_PERIODS_PER_DAY} periods")]
    issues: list[FieldIssue] = []
    spans: list[tuple[int, int, int]] = []
    for i, period in enumerate(periods):
        bad = [name for name in ("start", "end") if not _HOUR_MINUTE.fullmatch(getattr(period, name))]
        issues += [FieldIssue(f"{path}[{i}].{name}", "not a time HH:MM (00:00 to 24:00)") for name in bad]
        if bad:
            continue
        start, end = minutes(period.start), minutes(period.end)
        if end <= start:
            issues.append(FieldIssue(f"{path}[{i}].end", f"must be after start ({period.start})"))
        else:
            spans.append((start, end, i))
    spans.sort()
    for (_, earlier_end, j), (later_start, _, i) in zip(spans, spans[1:]):
        if later_start < earlier_end:
            issues.append(FieldIssue(f"{path}[{i}]", f"overlaps {path}[{j}]"))
    return issues


def _as_periods(periods: list[PeriodRequest]) -> list[WorkingPeriod]:
    ordered = sorted(periods, key=lambda p: minutes(p.start))
    return [WorkingPeriod(start=p.start, end=p.end) for p in ordered]


def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True

"""Working-time arithmetic on a business calendar: due dates that count only working time, and the working time
between two instants (what is left of an SLA; how long its clock ran before it paused).

Instants are aware datetimes (UTC in, UTC out). A period is wall-clock time in the calendar's zone: it lasts the
real time between its local start and end, so on the night clocks go forward a period spanning the jump is an
hour shorter, and on the night they go back an hour longer. A local time that does not exist (in the jump) is
read with the offset before the jump, i.e. as the instant the clocks show an hour later; a local time that occurs
twice is its first occurrence (zoneinfo's fold=0).

Every walk is bounded: it looks at most MAX_SPAN ahead and raises NoWorkingTimeWithin beyond, so a calendar
whose holidays blot out everything cannot make it loop forever (definitions with no weekly working time at all
are refused up front, calendars.check_definition)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator

from .calendars import WEEKDAYS, Calendar, minutes, zone_of

MAX_SPAN = timedelta(days=3 * 366)


class NoWorkingTimeWithin(ValueError):
    """The calendar holds too little working time within MAX_SPAN of the start."""


def add_working_time(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The instant `duration` of working time after `start`. A duration of 0 gives the first working instant at or
    after `start` (`start` itself while working); a duration that ends exactly where a period ends gives that end,
    not the start of the next period."""
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    left = duration
    for begin, end in _periods_from(calendar, start):
        begin = max(begin, start)
        if left <= end - begin:
            return begin + left
        left -= end - begin
    raise NoWorkingTimeWithin(f"calendar {calendar.id} holds less than {duration} of working time within {MAX_SPAN}")


def working_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """The working time in [start, end); zero when end is not after start. At most MAX_SPAN apart."""
    if end - start > MAX_SPAN:
        raise NoWorkingTimeWithin(f"{start} to {end} is longer than {MAX_SPAN}")
    if end <= start:
        return timedelta(0)
    total = timedelta(0)
    for begin, finish in _periods_from(calendar, start):
        if begin >= end:
            break
        total += min(finish, end) - max(begin, start)
    return total


def _periods_from(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The working periods (UTC, in order) that end after `start`, day by day for MAX_SPAN."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    zone = zone_of(calendar.time_zone)
    if zone is None:
        raise ValueError(f"calendar {calendar.id} names an unknown time zone {calendar.time_zone}")
    holidays = {date.fromisoformat(day) for day in calendar.holidays}
    week = [sorted((minutes(p.start), minutes(p.end)) for p in calendar.working_hours.get(day, [])) for day in WEEKDAYS]
    first = start.astimezone(zone).date()
    for offset in range(MAX_SPAN.days + 1):
        day = first + timedelta(days=offset)
        if day in holidays:
            continue
        midnight = datetime.combine(day, time(0), tzinfo=zone)
        for begin, end in week[day.weekday()]:
            period = (_local(midnight, begin), _local(midnight, end))
            if period[1] > start:
                yield period


def _local(midnight: datetime, minute_of_day: int) -> datetime:
    """The instant the day's wall clock shows `minute_of_day` (1440: the next midnight), in UTC."""
    # Adding to an aware datetime moves its wall clock (Python keeps the tzinfo); the offset is that of the result.
    return (midnight + timedelta(minutes=minute_of_day)).astimezone(timezone.utc)

"""Which calendar a case's SLA runs on, and the SLA view the case routes answer with (domain/sla.py does the
arithmetic)."""
from __future__ import annotations

import logging
from typing import Callable, Optional

from ..domain.calendars import Calendar
from ..domain.case_types import CaseType
from ..domain.clock import Clock, utc_now
from ..domain.models import Case
from ..domain.sla import CaseView, sla_view
from .case_types import CaseTypeCatalog

log = logging.getLogger(__name__)
CalendarLookup = Callable[[str], Optional[Calendar]]  # CalendarService.calendar


def no_calendars(calendar_id: str) -> Optional[Calendar]:
    return None


def calendar_for(case_type: CaseType, lookup: CalendarLookup) -> Optional[Calendar]:
    """The calendar the type's SLAs run on; None (wall-clock time) when it names none, or names one that has
    since been deleted: a case must never fail for its deadline."""
    if case_type.calendar is None:
        return None
    calendar = lookup(case_type.calendar)
    if calendar is None:
        log.warning(
            "case type %s version %s names calendar %s, which does not exist: its SLAs run in wall-clock time",
            case_type.id, case_type.version, case_type.calendar,
        )
    return calendar


class SlaViews:
    """The case as the API shows it: with its SLA clock computed now (never cached with the case)."""

    def __init__(self, case_types: CaseTypeCatalog, lookup: CalendarLookup, clock: Clock = utc_now) -> None:
        self._case_types, self._lookup, self._clock = case_types, lookup, clock

    def view(self, case: Case) -> CaseView:
        calendar = calendar_for(self._case_types.of_case(case), self._lookup)
        return CaseView.model_validate({**dict(case), "sla": sla_view(case, self._clock(), calendar)})

"""Business calendars (issue 15 item 3): the checks of a definition, each refusal naming its path, and working-time
arithmetic across weekends, holidays, overnight gaps and the DST transitions of Europe/Amsterdam (2026: clocks go
forward on 29 March, back on 25 October)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.calendars import CalendarRequest, check_definition
from chalicelib.domain.working_time import MAX_SPAN, NoWorkingTimeWithin, add_working_time, working_time_between
from chalicelib.errors import InvalidInput

OFFICE = {"start": "09:00", "end": "17:00"}
WEEK = {day: [OFFICE] for day in ("MON", "TUE", "WED", "THU", "FRI")}


def calendar(working_hours=None, holidays=(), zone="Europe/Amsterdam"):
    request = CalendarRequest.model_validate(
        {"timeZone": zone, "workingHours": WEEK if working_hours is None else working_hours, "holidays": list(holidays)}
    )
    return check_definition("office", request, 1)


def utc(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


def refused(**body):
    with pytest.raises(InvalidInput) as excinfo:
        calendar(**body)
    return {issue.field: issue.issue for issue in excinfo.value.details}


# -- definitions -------------------------------------------------------------------------------------------------


def test_a_definition_is_kept_in_weekday_and_time_order_with_its_holidays_sorted_once():
    made = calendar({"FRI": [OFFICE], "MON": [{"start": "13:00", "end": "17:00"}, {"start": "08:00", "end": "12:00"}]},
                    holidays=["2026-12-25", "2026-01-01", "2026-12-25"])
    assert list(made.working_hours) == ["MON", "FRI"]
    assert [p.start for p in made.working_hours["MON"]] == ["08:00", "13:00"]
    assert made.holidays == ["2026-01-01", "2026-12-25"]


def test_an_unknown_time_zone_is_refused_naming_timezone():
    for zone in ("Mars/Olympus", "Europe", "../etc/passwd", "/usr/share/zoneinfo/UTC"):
        assert "timeZone" in refused(zone=zone), zone


def test_a_period_that_does_not_end_after_it_starts_is_refused_naming_its_end():
    issues = refused(working_hours={"MON": [OFFICE, {"start": "18:00", "end": "18:00"}]})
    assert list(issues) == ["workingHours.MON[1].end"]
    assert "workingHours.TUE[0].end" in refused(working_hours={"TUE": [{"start": "17:00", "end": "09:00"}]})


def test_times_that_are_none_and_days_that_are_no_weekday_are_refused_by_path():
    issues = refused(working_hours={"MON": [{"start": "9:00", "end": "24:01"}], "FUNDAY": [OFFICE]})
    assert set(issues) == {"workingHours.MON[0].start", "workingHours.MON[0].end", "workingHours.FUNDAY"}


def test_overlapping_periods_are_refused_naming_the_later_one():
    issues = refused(working_hours={"WED": [{"start": "12:00", "end": "18:00"}, OFFICE]})
    assert list(issues) == ["workingHours.WED[0]"]
    calendar({"WED": [{"start": "09:00", "end": "12:00"}, {"start": "12:00", "end": "17:00"}]})  # touching is fine


def test_a_holiday_that_is_no_real_date_is_refused_naming_its_index():
    issues = refused(holidays=["2026-12-25", "2026-02-29", "2026-1-1", "christmas"])
    assert set(issues) == {"holidays[1]", "holidays[2]", "holidays[3]"}


def test_a_calendar_with_no_working_time_in_any_week_is_refused():
    assert list(refused(working_hours={})) == ["workingHours"]
    assert list(refused(working_hours={"MON": [], "SAT": []})) == ["workingHours"]


# -- adding working time -----------------------------------------------------------------------------------------


def test_time_inside_a_day_is_plain_addition():
    # Tuesday 3 February 2026, 10:00 in Amsterdam (CET, UTC+1)
    assert add_working_time(calendar(), utc(2026, 2, 3, 9), timedelta(hours=2)) == utc(2026, 2, 3, 11)


def test_the_overnight_gap_is_skipped():
    # 16:00 local with 3 hours to go: 1 hour today, 2 tomorrow from 09:00 local
    assert add_working_time(calendar(), utc(2026, 2, 3, 15), timedelta(hours=3)) == utc(2026, 2, 4, 10)


def test_the_weekend_is_skipped():
    # Friday 6 February 16:00 local → Monday 9 February 11:00 local
    assert add_working_time(calendar(), utc(2026, 2, 6, 15), timedelta(hours=3)) == utc(2026, 2, 9, 10)


def test_holidays_are_skipped():
    made = calendar(holidays=["2026-02-09", "2026-02-10"])
    assert add_working_time(made, utc(2026, 2, 6, 15), timedelta(hours=3)) == utc(2026, 2, 11, 10)


def test_a_duration_that_ends_with_a_period_ends_there_not_at_the_next_start():
    assert add_working_time(calendar(), utc(2026, 2, 3, 8), timedelta(hours=8)) == utc(2026, 2, 3, 16)


def test_zero_gives_the_start_while_working_and_the_next_working_instant_otherwise():
    made = calendar()
    assert add_working_time(made, utc(2026, 2, 3, 10), timedelta(0)) == utc(2026, 2, 3, 10)
    assert add_working_time(made, utc(2026, 2, 3, 16), timedelta(0)) == utc(2026, 2, 4, 8)  # 17:00 local: closed
    assert add_working_time(made, utc(2026, 2, 7, 12), timedelta(0)) == utc(2026, 2, 9, 8)  # Saturday


def test_a_negative_duration_or_a_naive_start_is_refused():
    with pytest.raises(ValueError):
        add_working_time(calendar(), utc(2026, 2, 3, 10), timedelta(seconds=-1))
    with pytest.raises(ValueError):
        add_working_time(calendar(), datetime(2026, 2, 3, 10), timedelta(hours=1))


def test_periods_are_local_wall_clock_time_across_the_spring_transition():
    # Friday 27 March is CET (UTC+1); Monday 30 March is CEST (UTC+2): 09:00 local is 07:00 UTC
    assert add_working_time(calendar(), utc(2026, 3, 27, 15), timedelta(hours=3)) == utc(2026, 3, 30, 9)


def test_periods_are_local_wall_clock_time_across_the_autumn_transition():
    # Friday 23 October is CEST; Monday 26 October is CET: 09:00 local is 08:00 UTC
    assert add_working_time(calendar(), utc(2026, 10, 23, 14), timedelta(hours=3)) == utc(2026, 10, 26, 10)


def test_a_night_shift_over_the_jump_lasts_the_real_time_between_its_wall_clock_ends():
    nights = {"SUN": [{"start": "00:00", "end": "06:00"}]}
    spring, autumn = calendar(nights), calendar(nights)
    # 29 March: 02:00 local does not exist, the shift lasts 5 hours; 25 October: 02:00-03:00 comes twice, 7 hours
    assert working_time_between(spring, utc(2026, 3, 28), utc(2026, 3, 30)) == timedelta(hours=5)
    assert working_time_between(autumn, utc(2026, 10, 24), utc(2026, 10, 26)) == timedelta(hours=7)
    # a period starting inside the jump starts when the clocks show an hour later: 02:30 → 03:30 CEST (01:30 UTC)
    jump = calendar({"SUN": [{"start": "02:30", "end": "04:00"}]})
    assert add_working_time(jump, utc(2026, 3, 28), timedelta(0)) == utc(2026, 3, 29, 1, 30)


def test_a_period_may_run_to_midnight():
    late = calendar({"MON": [{"start": "20:00", "end": "24:00"}]})
    assert add_working_time(late, utc(2026, 2, 2, 19), timedelta(hours=4)) == utc(2026, 2, 2, 23)  # 24:00 local


def test_a_calendar_whose_holidays_blot_out_every_day_stops_with_an_error():
    mondays = [(date(2026, 1, 5) + timedelta(weeks=n)).isoformat() for n in range(4 * 53)]
    made = calendar({"MON": [OFFICE]}, holidays=mondays)  # valid: it works in a week, just never in these years
    with pytest.raises(NoWorkingTimeWithin):
        add_working_time(made, utc(2026, 1, 1), timedelta(minutes=1))
    assert add_working_time(made, utc(2025, 12, 29, 7), timedelta(minutes=1)) == utc(2025, 12, 29, 8, 1)


# -- working time between ----------------------------------------------------------------------------------------


def test_working_time_between_counts_only_working_periods():
    made = calendar(holidays=["2026-02-05"])
    # Tuesday 10:00 local to the next Monday 10:00 local: 7 + 8 (Wed) + 0 (Thu holiday) + 8 (Fri) + 1
    assert working_time_between(made, utc(2026, 2, 3, 9), utc(2026, 2, 9, 9)) == timedelta(hours=24)
    assert working_time_between(made, utc(2026, 2, 9, 9), utc(2026, 2, 3, 9)) == timedelta(0)


def test_working_time_between_refuses_a_span_beyond_the_bound():
    with pytest.raises(NoWorkingTimeWithin):
        working_time_between(calendar(), utc(2026, 1, 1), utc(2026, 1, 1) + MAX_SPAN + timedelta(days=1))


def test_a_calendar_may_be_an_entire_week_round_the_clock():
    always = calendar({day: [{"start": "00:00", "end": "24:00"}] for day in ("MON", "TUE", "WED", "THU", "FRI",
                                                                               "SAT", "SUN")}, zone="UTC")
    assert add_working_time(always, utc(2026, 5, 1, 12), timedelta(days=10)) == utc(2026, 5, 11, 12)


# -- properties --------------------------------------------------------------------------------------------------

ZONES = st.sampled_from(["Europe/Amsterdam", "Europe/London", "America/New_York", "Asia/Kolkata", "UTC"])
INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(timezone.utc),
)
# at most 30 hours: the sparsest calendar drawn (half an hour a week) holds 78 hours in MAX_SPAN
DURATIONS = st.integers(min_value=0, max_value=30 * 60).map(lambda m: timedelta(minutes=m))


@st.composite
def calendars(draw):
    days = draw(st.lists(st.sampled_from(["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]), min_size=1, unique=True))
    hours = {}
    for day in days:
        cuts = sorted(draw(st.lists(st.integers(0, 48), min_size=2, max_size=6, unique=True)))
        pairs = list(zip(cuts[::2], cuts[1::2]))
        hours[day] = [{"start": _half_hour(a), "end": _half_hour(b)} for a, b in pairs]
    holidays = draw(st.lists(st.dates(min_value=date(2025, 1, 1), max_value=date(2029, 1, 31)), max_size=20))
    return calendar(hours, [d.isoformat() for d in holidays], zone=draw(ZONES))


def _half_hour(count):
    return f"{count // 2:02d}:{30 * (count % 2):02d}"


@settings(max_examples=150, deadline=None)
@given(made=calendars(), start=INSTANTS, duration=DURATIONS)
def test_adding_then_measuring_gives_back_the_duration(made, start, duration):
    due = add_working_time(made, start, duration)
    assert due >= start
    assert working_time_between(made, start, due) == duration


@settings(max_examples=100, deadline=None)
@given(made=calendars(), start=INSTANTS, first=DURATIONS, second=DURATIONS)
def test_adding_in_two_steps_is_adding_the_sum(made, start, first, second):
    in_steps = add_working_time(made, add_working_time(made, start, first), second)
    assert in_steps == add_working_time(made, start, first + second) or second == timedelta(0)

"""The customer view's merge rule: per-field source and age, latest data within the SLA wins, a source that
is down contributes its last known value marked stale."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.customers import (
    Observation, SourceRecord, SourceState, StaleReason, ViewStatus, iso, merge,
)
from tests.support import START

HOUR = 3600
DAY = 24 * HOUR


def record(hours_old: float, **fields) -> SourceRecord:
    return SourceRecord(fields=fields, as_of=START - timedelta(hours=hours_old))


def crm(rec=None, live=True, found=True, sla=DAY, error=None) -> Observation:
    return Observation("crm.customer-profile", sla, live=live, record=rec, found=found, error=error)


def risk(rec=None, live=True, found=True, sla=DAY, error=None) -> Observation:
    return Observation("risk.customer-accounts", sla, live=live, record=rec, found=found, error=error)


def test_every_field_carries_its_source_and_age():
    view = merge("CUST-1", [crm(record(2, name="Ada Costa")), risk(record(5, riskBand="LOW"))], START)
    assert view.status == ViewStatus.COMPLETE
    assert view.fields["name"].source == "crm.customer-profile"
    assert view.fields["name"].age_seconds == 2 * HOUR
    assert view.fields["name"].as_of == iso(START - timedelta(hours=2))
    assert view.fields["riskBand"].source == "risk.customer-accounts"
    assert view.fields["riskBand"].age_seconds == 5 * HOUR
    assert not any(f.stale for f in view.fields.values())
    assert [s.status for s in view.sources] == [SourceState.OK, SourceState.OK]


def test_the_latest_value_of_a_field_two_products_hold_wins():
    view = merge("CUST-1", [crm(record(3, segment="RETAIL")), risk(record(1, segment="PREMIUM"))], START)
    assert (view.fields["segment"].value, view.fields["segment"].source) == ("PREMIUM", "risk.customer-accounts")
    view = merge("CUST-1", [crm(record(1, segment="RETAIL")), risk(record(3, segment="PREMIUM"))], START)
    assert (view.fields["segment"].value, view.fields["segment"].source) == ("RETAIL", "crm.customer-profile")


def test_a_newer_value_outside_its_products_sla_loses_to_an_older_one_within_its_sla():
    view = merge(
        "CUST-1", [crm(record(2, segment="RETAIL"), sla=DAY), risk(record(1.5, segment="PREMIUM"), sla=HOUR)], START,
    )
    assert (view.fields["segment"].value, view.fields["segment"].stale) == ("RETAIL", False)
    # The risk product's own field is still shown, flagged as outside its SLA.
    view = merge("CUST-1", [crm(record(2, name="Ada")), risk(record(1.5, riskBand="LOW"), sla=HOUR)], START)
    assert view.fields["riskBand"].stale and view.fields["riskBand"].stale_reason == StaleReason.OUTSIDE_SLA
    assert view.status == ViewStatus.PARTIAL
    assert view.sources[1].status == SourceState.STALE


def test_a_source_that_is_down_serves_its_last_known_value_marked_stale():
    last_known = record(30, riskBand="HIGH", riskScore=80)
    view = merge("CUST-1", [crm(record(1, name="Ada")), risk(last_known, live=False, error="timed out")], START)
    assert view.status == ViewStatus.PARTIAL
    band = view.fields["riskBand"]
    assert (band.value, band.stale, band.stale_reason) == ("HIGH", True, StaleReason.SOURCE_UNAVAILABLE)
    assert band.age_seconds == 30 * HOUR
    assert view.fields["name"].stale is False
    assert (view.sources[1].status, view.sources[1].error) == (SourceState.STALE, "timed out")


def test_a_last_known_value_never_beats_a_live_fresh_one():
    view = merge("CUST-1", [crm(record(1, segment="RETAIL")), risk(record(0.5, segment="PREMIUM"), live=False)], START)
    assert (view.fields["segment"].value, view.fields["segment"].stale) == ("RETAIL", False)


def test_every_source_down_with_nothing_known_is_unavailable():
    view = merge("CUST-1", [crm(live=False, error="refused"), risk(live=False, error="timed out")], START)
    assert view.status == ViewStatus.UNAVAILABLE and view.fields == {}
    assert {s.status for s in view.sources} == {SourceState.UNAVAILABLE}


def test_every_source_answering_no_such_customer_is_not_found():
    view = merge("CUST-1", [crm(found=False), risk(found=False)], START)
    assert view.status == ViewStatus.NOT_FOUND
    assert merge("CUST-1", [crm(found=False), risk(live=False)], START).status == ViewStatus.UNAVAILABLE
    assert merge("CUST-1", [], START).status == ViewStatus.UNAVAILABLE


def test_a_customer_one_product_does_not_know_is_still_complete():
    view = merge("CUST-1", [crm(record(1, name="Ada")), risk(found=False)], START)
    assert view.status == ViewStatus.COMPLETE
    assert [s.status for s in view.sources] == [SourceState.OK, SourceState.NOT_FOUND]

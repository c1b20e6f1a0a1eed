"""Business calendars in the web console, in headless Chromium: an admin defines one in the editor (the API's
refusals shown by the period and the time zone they name), changes it, and a case type's editor offers it."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_console import sign_in


def test_an_admin_defines_a_calendar_and_changes_it(open_console):
    ada = open_console()
    sign_in(ada, "ada")
    ada.get_by_role("navigation", name="Main").get_by_role("link", name="Calendars").click()
    expect(ada.get_by_role("heading", level=1)).to_have_text("Calendars")
    ada.get_by_role("link", name="New calendar").click()

    ada.get_by_label("Id", exact=True).fill("nl-office")
    ada.get_by_label("Name", exact=True).fill("Amsterdam office")
    ada.get_by_label("Time zone").fill("Europe/Amsterdan")  # a typo: no such zone
    monday = ada.get_by_role("group", name="Monday", exact=True)
    monday.get_by_label("End").fill("08:00")  # before its start
    ada.get_by_role("button", name="Create calendar").click()

    summary = ada.locator(".alert-error")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Period 1 end: must be after start (09:00)")
    expect(monday.get_by_label("End")).to_have_attribute("aria-invalid", "true")
    expect(monday.get_by_label("End")).to_have_accessible_description(re.compile("must be after start", re.I))
    expect(ada.get_by_label("Time zone")).to_have_accessible_description(re.compile("not an IANA time zone", re.I))
    tuesday = ada.get_by_role("group", name="Tuesday", exact=True)
    expect(tuesday.get_by_label("End")).not_to_have_attribute("aria-invalid", "true")

    monday.get_by_label("End").fill("17:00")
    ada.get_by_label("Time zone").fill("Europe/Amsterdam")
    ada.get_by_role("button", name="Add a holiday").click()
    ada.get_by_role("group", name="Holiday 1").get_by_label("Date").fill("2026-12-25")
    ada.get_by_role("button", name="Create calendar").click()
    expect(ada.get_by_role("status").filter(has_text="Calendar nl-office saved (version 1).")).to_be_visible()

    # Friday afternoons off: the second save is version 2.
    friday = ada.get_by_role("group", name="Friday", exact=True)
    friday.get_by_label("End").fill("13:00")
    ada.get_by_role("button", name="Save calendar").click()
    expect(ada.get_by_role("status").filter(has_text="Calendar nl-office saved (version 2).")).to_be_visible()
    expect(ada.get_by_role("group", name="Friday", exact=True).get_by_label("End")).to_have_value("13:00")

    ada.get_by_role("navigation", name="Main").get_by_role("link", name="Calendars").click()
    row = ada.get_by_role("row").filter(has_text="nl-office")
    expect(row).to_contain_text("Europe/Amsterdam")
    expect(row).to_contain_text("Mon, Tue, Wed, Thu, Fri")

    # A new calendar cannot take an existing one's id (PUT would replace it).
    ada.get_by_role("link", name="New calendar").click()
    ada.get_by_label("Id", exact=True).fill("nl-office")
    ada.get_by_role("button", name="Create calendar").click()
    expect(ada.locator(".alert-error")).to_contain_text("nl-office exists already")

    ada.get_by_role("navigation", name="Main").get_by_role("link", name="Case types").click()
    ada.get_by_role("link", name="New case type").click()
    offered = ada.get_by_label("Calendar").locator("option[value='nl-office']")
    expect(offered).to_have_text("Amsterdam office (nl-office)")

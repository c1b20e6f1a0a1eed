"""The bell and the notifications page in headless Chromium: a task assigned to alice rings her bell, the page
lists it, and its link opens the case."""
from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.browser.test_console import sign_in

CASE = {"title": "Bell rings for this", "caseType": "GENERAL", "priority": "LOW", "customerId": "CUST-9001"}


def test_the_bell_counts_an_assigned_task_and_the_page_opens_its_case(open_console, console_api):
    alice_api = console_api("alice")
    page = open_console()
    sign_in(page, "alice")
    case = alice_api.post("/cases", json=CASE).json()
    deadline = time.monotonic() + 60  # the workflow assigns the task, the stream's consumer notifies
    while not [n for n in alice_api.get("/notifications", params={"unread": "true"}).json()["items"]
               if n["caseId"] == case["id"] and n["kind"] == "TASK_ASSIGNED"]:
        assert time.monotonic() < deadline, "alice was never notified of her task"
        time.sleep(0.5)

    page.reload()  # the top bar reads the count on every page (and every 30 s)
    bell = page.get_by_role("link", name=re.compile(r"^Notifications, \d+\+? unread$"))
    expect(bell).to_be_visible()
    bell.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    note = page.get_by_role("listitem").filter(has_text=case["number"]).filter(has_text="Task assigned")
    expect(note).to_have_count(1)
    note.get_by_role("link", name="Open the task's case").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CASE["title"])
    deadline = time.monotonic() + 15  # opening it marked it read
    while [n for n in alice_api.get("/notifications", params={"unread": "true"}).json()["items"]
           if n["caseId"] == case["id"]]:
        assert time.monotonic() < deadline, "opening the notification did not mark it read"
        time.sleep(0.3)

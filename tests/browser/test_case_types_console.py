"""Case types as data in the web console, in headless Chromium: an admin defines a type with a task and two
custom fields through the editor (the API's refusal shown by the input it names); a caseworker opens a case of it
through the form, first without its required field, and the case page shows the values, labelled as the type's
version defines them. Publishing from the editor makes the next version; a page left open on an older one is
refused (412), not applied."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_console import sign_in

TYPE_ID = "WARRANTY"
SLA = {"LOW": 240, "MEDIUM": 120, "HIGH": 48, "CRITICAL": 8}


def test_an_admin_defines_a_type_and_a_caseworker_opens_a_case_with_its_fields(open_console, console_api, screenshots):
    ada = open_console()
    sign_in(ada, "ada")
    ada.get_by_role("navigation", name="Main").get_by_role("link", name="Case types").click()
    expect(ada.get_by_role("table")).to_contain_text("Insurance claim")
    ada.get_by_role("link", name="New case type").click()
    expect(ada.get_by_role("heading", level=1)).to_have_text("New case type")

    ada.get_by_label("Id", exact=True).fill(TYPE_ID)
    ada.get_by_label("Name", exact=True).fill("Warranty claim")
    ada.get_by_label("Team", exact=True).fill("claims")
    ada.get_by_role("button", name="Add a task").click()
    task = ada.get_by_role("group", name="Task 1")
    expect(task.get_by_label("Type")).to_be_focused()
    task.get_by_label("Type").fill("INSPECT")
    task.get_by_label("Title").fill("Inspect the device")
    ada.get_by_role("button", name="Add a field").click()
    severity = ada.get_by_role("group", name="Field 1")
    severity.get_by_label("Name").fill("severity")
    severity.get_by_label("Label").fill("Severity")
    severity.get_by_label("Type").select_option("enum")  # its values left out: the API refuses the definition
    ada.get_by_role("button", name="Add a field").click()
    hours = ada.get_by_role("group", name="Field 2")
    hours.get_by_label("Name").fill("hoursOfUse")
    hours.get_by_label("Label").fill("Hours of use")
    hours.get_by_label("Type").select_option("number")
    hours.get_by_label("Required").check()
    hours.get_by_label("Minimum").fill("0")
    hours.get_by_label("Help").fill("As the device's counter shows them")
    ada.get_by_role("button", name="Create case type").click()

    summary = ada.locator(".alert-error")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Field 1 values:")
    values = severity.get_by_label("Values")
    expect(values).to_have_attribute("aria-invalid", "true")
    expect(values).to_have_accessible_description(re.compile("enum field needs its values", re.I))  # the API's words
    expect(task.get_by_label("Type")).not_to_have_attribute("aria-invalid", "true")
    values.fill("minor, major")
    ada.get_by_role("button", name="Create case type").click()

    expect(ada.get_by_role("status").filter(has_text=f"Case type {TYPE_ID} created.")).to_be_visible()
    expect(ada.get_by_role("heading", level=1)).to_have_text("Warranty claim")
    expect(ada.get_by_role("group", name="Field 2").get_by_label("Label")).to_have_value("Hours of use")
    screenshots(ada, "case-type-editor")

    # A caseworker opens a case of it: the form asks for its fields; the required one left empty is refused.
    alice = open_console()
    sign_in(alice, "alice")
    alice.get_by_role("link", name="New case").first.click()
    alice.get_by_label("Title").fill("Kettle stopped heating")
    alice.get_by_label("Case type").select_option(TYPE_ID)
    alice.get_by_label("Customer ID").fill("CUST-1001")
    hours_of_use = alice.get_by_label("Hours of use")
    expect(hours_of_use).to_have_attribute("aria-required", "true")
    expect(alice.get_by_text("As the device's counter shows them. At least 0.")).to_be_visible()
    alice.get_by_label("Severity").select_option("major")
    alice.get_by_role("button", name="Open case").click()

    refusal = alice.locator(".alert-error")
    expect(refusal).to_be_focused()
    expect(refusal).to_contain_text("Hours of use")
    expect(hours_of_use).to_have_attribute("aria-invalid", "true")
    expect(alice.locator("#field-hoursOfUse-error")).to_be_visible()
    expect(hours_of_use).to_have_accessible_description(re.compile(alice.locator("#field-hoursOfUse-error").inner_text()))
    expect(alice.get_by_label("Severity")).not_to_have_attribute("aria-invalid", "true")
    hours_of_use.fill("1200")
    alice.get_by_role("button", name="Open case").click()

    expect(alice.get_by_role("heading", level=1)).to_have_text("Kettle stopped heating")
    expect(alice.locator("[data-meta=caseType]")).to_contain_text("(version")
    details = alice.locator("#case-fields")
    expect(details.locator("[data-field=severity]")).to_contain_text("Severity")
    expect(details.locator("[data-field=severity]")).to_contain_text("major")
    expect(details.locator("[data-field=hoursOfUse]")).to_contain_text("Hours of use")
    expect(details.locator("[data-field=hoursOfUse]")).to_contain_text("1200")
    case_id = alice.url.rsplit("/", 1)[-1]
    stored = console_api("alice").get(f"/cases/{case_id}").json()
    assert stored["fields"] == {"severity": "major", "hoursOfUse": 1200}


def test_publishing_from_the_editor_makes_a_version_and_a_stale_page_is_refused(open_console, console_api):
    admin_api = console_api("ada")
    created = admin_api.post("/case-types", json={"id": "REPAIR", "name": "Repair request", "slaHours": SLA})
    assert created.status_code == 201, created.text
    ada = open_console()
    sign_in(ada, "ada")
    ada.goto(f"{ada.url.split('#')[0]}#/admin/case-types/REPAIR")
    expect(ada.get_by_role("heading", level=1)).to_have_text("Repair request")
    ada.get_by_role("button", name="Add a document").click()
    ada.get_by_role("group", name="Document 1").get_by_label("Document kind").fill("receipt")
    ada.get_by_role("button", name="Publish version 2").click()
    expect(ada.get_by_role("status").filter(has_text="Version 2 of REPAIR published.")).to_be_visible()
    expect(ada.get_by_role("link", name="Version 1")).to_be_visible()

    # Someone else publishes version 3 meanwhile: publishing from this page is refused, nothing overwritten.
    published = admin_api.put("/case-types/REPAIR", json={"name": "Repair request (2027)", "slaHours": SLA},
                              headers={"If-Match": '"2"'})
    assert published.status_code == 200, published.text
    ada.get_by_role("button", name="Publish version 3").click()
    expect(ada.locator(".alert-error")).to_contain_text("Someone published a newer version meanwhile.")
    ada.get_by_role("button", name="Reload").click()
    expect(ada.get_by_role("heading", level=1)).to_have_text("Repair request (2027)")
    expect(ada.get_by_role("button", name="Publish version 4")).to_be_visible()
    ada.get_by_role("link", name="Version 1").click()
    expect(ada.get_by_role("heading", level=1)).to_have_text("Repair request, version 1")
    expect(ada.get_by_role("region", name="Required documents")).to_contain_text("No documents are required.")

    # Retiring asks first; a retired type is listed as such and offered to no new case.
    ada.get_by_role("link", name="Current version").click()
    ada.get_by_role("button", name="Retire this type…").click()
    expect(ada.get_by_role("button", name="Retire REPAIR")).to_be_focused()
    ada.get_by_role("button", name="Retire REPAIR").click()
    expect(ada.get_by_role("status").filter(has_text="REPAIR is retired")).to_be_visible()
    ada.get_by_role("navigation", name="Main").get_by_role("link", name="Case types").click()
    expect(ada.get_by_role("row").filter(has_text="REPAIR")).to_contain_text("Retired")
    ada.get_by_role("link", name="New case").first.click()
    expect(ada.get_by_label("Case type").locator("option[value=REPAIR]")).to_have_count(0)

"""A case worker's day in the web console, in headless Chromium: sign in, open a claim, see it assigned,
upload its documents and see them processed, an approver approves, the work is done and the case closes.
Finance's payment goes through the API (not the point here); everything else happens in the browser."""
from __future__ import annotations

import re
import time

from playwright.sync_api import expect

PASSWORD = "Demo-Passw0rd!"
FORM = b"Claim form\nPolicy 12345\nDate of loss: 2 March\n"
PROOF = b"Plumber invoice 0042\nReplace burst pipe under sink\nTotal 310.00 EUR\n"
WORKFLOW_TIMEOUT = 60_000  # ms: moto runs the workflow and the document processor on a busy 2-core machine


def sign_in(page, username):
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {username}")
    expect(page.get_by_role("heading", level=1)).to_be_focused()  # screen readers start at the new page


def test_a_wrong_password_is_refused_with_a_visible_error(open_console, screenshots):
    page = open_console()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshots(page, "sign-in", full_page=False)
    # The keyboard alone: the page's heading has the focus, the skip link is before it, the fields after.
    expect(page.get_by_role("heading", name="Sign in")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("User name")).to_be_focused()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type("not-her-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("The user name or password is wrong.")
    expect(page.get_by_label("Password")).to_be_focused()


def test_an_expiring_session_is_refreshed_and_a_rejected_one_signs_out(open_console):
    page = open_console()
    sign_in(page, "alice")
    expire = ("s => { const v = JSON.parse(sessionStorage.getItem('cms.session')); v.expiresAt = Date.now() - 1000; "
              "%s; sessionStorage.setItem('cms.session', JSON.stringify(v)); }")
    page.evaluate(expire % "")
    page.reload()  # the next call refreshes the ID token with Cognito's REFRESH_TOKEN_AUTH
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, alice")
    # Polled from here: the console's Content-Security-Policy forbids the eval wait_for_function would use.
    deadline = time.monotonic() + 15
    while page.evaluate("JSON.parse(sessionStorage.getItem('cms.session')).expiresAt <= Date.now()"):
        assert time.monotonic() < deadline, "the session was never refreshed"
        page.wait_for_timeout(100)
    expect(page.get_by_role("table")).to_be_visible()  # the inbox's calls went through with the new token
    page.evaluate(expire % "v.refreshToken = 'revoked'; v.idToken = v.idToken.slice(0, -4) + 'AAAA'")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("status").filter(has_text="session has expired")).to_be_visible()


def test_the_create_form_shows_the_apis_messages_next_to_the_fields(open_console, screenshots):
    page = open_console()
    sign_in(page, "alice")
    page.get_by_role("link", name="New case").first.click()
    page.get_by_label("Title").fill("Broken window")
    page.get_by_label("Case type").select_option("CLAIM")
    page.get_by_label("Amount").fill("12.345")  # three decimals: the API refuses it
    page.get_by_role("button", name="Open case").click()

    summary = page.locator(".alert-error")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Customer ID: this field is required")
    customer = page.get_by_label("Customer ID")
    expect(customer).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#customerId-error")).to_have_text("This field is required")
    expect(page.locator("#compensation\\.amount-error")).to_contain_text("should match pattern")
    expect(page.get_by_label("Title")).not_to_have_attribute("aria-invalid", "true")  # the API accepted it
    screenshots(page, "create-case-errors")


def test_a_claim_is_opened_assigned_documented_approved_and_closed(open_console, console_api, screenshots):
    alice = open_console()
    sign_in(alice, "alice")
    alice.get_by_role("link", name="New case").first.click()
    alice.get_by_label("Title").fill("Burst pipe under the kitchen sink")
    alice.get_by_label("Description").fill("Water damage to the kitchen floor; plumber called the same day.")
    alice.get_by_label("Case type").select_option("CLAIM")
    alice.get_by_label("Priority").select_option("LOW")
    alice.get_by_label("Customer ID").fill("CUST-1001")
    alice.get_by_label("Amount").fill("310.00")
    alice.get_by_role("button", name="Open case").click()

    # The case page: the workflow assigns the claim's tasks to alice, the claims team's caseworker.
    heading = alice.get_by_role("heading", level=1)
    expect(heading).to_have_text("Burst pipe under the kitchen sink")
    case_id = alice.url.rsplit("/", 1)[-1]
    expect(alice.locator("[data-meta=assignee]")).to_contain_text("alice", timeout=WORKFLOW_TIMEOUT)
    tasks = alice.locator("#tasks")
    expect(tasks).to_contain_text("Check the claim documents")
    expect(tasks).to_contain_text("Assigned to alice")
    expect(alice.locator("#workflow .node-current")).to_have_attribute("data-state", "AwaitDocuments",
                                                                       timeout=WORKFLOW_TIMEOUT)
    # The customer view renders, or says plainly that it is unavailable; it never stays loading.
    expect(alice.locator("#customer")).not_to_contain_text("Loading customer data", timeout=20_000)

    # Her inbox lists the new tasks.
    alice.get_by_role("link", name="My work").click()
    expect(alice.get_by_role("table")).to_contain_text("Burst pipe under the kitchen sink")
    screenshots(alice, "inbox")
    alice.get_by_role("link", name="Cases", exact=True).click()
    expect(alice.get_by_role("table")).to_contain_text("Burst pipe under the kitchen sink")
    screenshots(alice, "case-list")
    alice.get_by_role("table").get_by_role("link", name="Burst pipe under the kitchen sink").click()
    expect(heading).to_have_text("Burst pipe under the kitchen sink")

    # Both required documents, uploaded from the browser; each is processed to READY.
    documents = alice.locator("#documents")
    for content, filename, kind in ((FORM, "claim-form.txt", "claim-form"), (PROOF, "invoice.txt", "proof-of-loss")):
        documents.get_by_label("File").set_input_files({"name": filename, "mimeType": "text/plain", "buffer": content})
        documents.get_by_label("Counts as").select_option(kind)
        documents.get_by_role("button", name="Upload", exact=True).click()
        expect(documents.get_by_role("status").filter(has_text="Uploaded")).to_contain_text(filename)
        entry = documents.locator("details.doc", has_text=filename)
        expect(entry.get_by_label("Processing: Ready")).to_be_visible(timeout=WORKFLOW_TIMEOUT)
    entry.locator("summary").click()  # its versions: one, READY, with its SHA-256
    expect(entry.locator("table.versions")).to_contain_text("v1")
    expect(entry.get_by_role("button", name="Download invoice.txt")).to_be_visible()
    expect(alice.locator("#workflow .node-current")).to_have_attribute("data-state", "AwaitApproval",
                                                                       timeout=WORKFLOW_TIMEOUT)

    screenshots(alice, "case-page")

    # The approver finds it in her inbox, reads the case (it waits for her) and approves it; four-eyes
    # holds: she neither opened it nor works on it.
    number = console_api("alice").get(f"/cases/{case_id}").json()["number"]
    ava = open_console()
    sign_in(ava, "ava")
    ava.get_by_role("link", name=f"Review the approval of {number}").click()
    expect(ava.get_by_role("heading", level=1)).to_have_text("Burst pipe under the kitchen sink")
    approvals = ava.locator("#approvals")
    expect(approvals).to_contain_text("€310.00")
    approvals.get_by_label("Decision comment").fill("Invoice matches the damage.")
    approvals.get_by_role("button", name="Approve").click()
    expect(approvals).to_contain_text("Approved by ava", timeout=WORKFLOW_TIMEOUT)
    expect(alice.locator("#activity")).to_contain_text("Invoice matches the damage.", timeout=WORKFLOW_TIMEOUT)
    ava.goto(ava.url.split("#")[0] + f"#/approvals/{case_id}-a1")  # the approval on its own page
    expect(ava.get_by_role("heading", level=1)).to_have_text("Level 1 approval")
    expect(ava.locator("main")).to_contain_text("Approved by ava")

    # Finance pays (through the API); then alice completes her tasks and the case closes.
    expect(alice.locator("#compensation")).to_contain_text("Payment instruction", timeout=WORKFLOW_TIMEOUT)
    paid = console_api("fin").post(f"/cases/{case_id}/compensation/payment", json={"reference": "PAY-BROWSER-1"})
    assert paid.status_code == 200, paid.text
    expect(alice.locator("#workflow .node-current")).to_have_attribute("data-state", "AwaitTasks",
                                                                       timeout=WORKFLOW_TIMEOUT)
    for _ in range(5):  # the claim's tasks, each completed from the case page
        buttons = tasks.get_by_role("button", name=re.compile("^Complete task"))
        remaining = buttons.count()
        if not remaining:
            break
        buttons.first.click()
        expect(buttons).to_have_count(remaining - 1)
    expect(alice.locator(".case-title")).to_contain_text("Closed", timeout=WORKFLOW_TIMEOUT)
    expect(alice.locator("#workflow")).to_contain_text("Finished")
    feed = alice.locator("#activity")
    expect(feed).to_contain_text("closed the case")
    feed.get_by_role("button", name=re.compile("^Show all")).click()  # the newest events come first
    expect(feed).to_contain_text("approved the level 1 approval")
    expect(feed).to_contain_text("verified “claim-form.txt”")
    # The case as it was right after it was opened, rebuilt by the API from this feed's audit chain.
    feed.get_by_role("button", name="View the case as of event #1", exact=True).click()
    then = feed.locator(".as-of")
    expect(then).to_contain_text("after event #1, version 1")
    expect(then).to_contain_text("The audit chain up to it verifies.")
    expect(then.get_by_label("Status: New")).to_be_visible()
    screenshots(alice, "case-as-of")
    feed.get_by_role("button", name="Back to now").click()
    expect(then).to_have_count(0)
    expect(alice.locator("#compensation table.ledger")).to_contain_text("Paid")
    screenshots(alice, "case-closed")


MESH_VIEW = {  # GET /customers/{id} as the data mesh answers it (issue #6): each field with source and age
    "customerId": "CUST-1002", "status": "PARTIAL", "assembledAt": "2026-03-01T12:00:00Z",
    "fields": {
        "name": {"value": "Dana Example", "source": "crm-profile", "asOf": "2026-03-01T11:58:00Z", "ageSeconds": 120},
        "riskScore": {"value": 0.42, "source": "account-risk", "asOf": "2026-02-27T12:00:00Z", "ageSeconds": 172800,
                      "stale": True, "staleReason": "SOURCE_DOWN"},
    },
    "sources": [
        {"product": "crm-profile", "status": "OK", "ageSeconds": 120, "freshnessSlaSeconds": 3600},
        {"product": "account-risk", "status": "STALE", "ageSeconds": 172800, "freshnessSlaSeconds": 86400,
         "error": "timed out"},
    ],
}


def test_the_customer_view_shows_sources_and_freshness_and_says_when_it_is_unavailable(open_console):
    """The customer panel against the API's answers, set per test with Playwright's request routing
    (the endpoint itself is the data mesh's, issue #6): a merged view, then a 404 and a 501."""
    page = open_console()
    sign_in(page, "alice")
    answers = [(200, MESH_VIEW),
               (404, {"error": {"code": "NOT_FOUND", "message": "no customer CUST-1002", "details": []}}),
               (501, {"error": {"code": "NOT_IMPLEMENTED", "message": "no data mesh here", "details": []}})]
    cors = {"Access-Control-Allow-Origin": "*"}
    page.route("**/customers/*", lambda route: route.fulfill(status=answers[0][0], json=answers[0][1], headers=cors))
    page.get_by_role("link", name="Cases", exact=True).click()
    # until the list replaces "My work", that page's task table links the same case once per task
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    page.get_by_role("table").get_by_role("link", name="Stolen bicycle").click()  # a demo case of CUST-1002

    customer = page.locator("#customer")
    expect(customer).to_contain_text("Dana Example")
    expect(customer).to_contain_text("crm-profile · 2 min old")
    expect(customer).to_contain_text("stale (source down)")
    expect(customer).to_contain_text("Some values are stale")
    expect(customer.locator(".sources")).to_contain_text("fresh within 1 d")
    for status in (404, 501):
        answers.pop(0)
        page.reload()
        expect(customer).to_contain_text("Customer data unavailable")
        expect(customer).to_contain_text(
            "directory has no record" if status == 404 else "not available in this deployment")

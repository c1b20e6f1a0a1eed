"""The console and issue 12: signing out revokes the refresh token with Cognito (item 16), so a copy of the
token taken from the tab before it signed out refreshes nothing afterwards; the team queue is the team the
personnel directory names (item 1), whatever the token's custom:team says."""
from __future__ import annotations

import time

import boto3
import pytest
from playwright.sync_api import expect

from tests.browser.test_console import sign_in


def test_signing_out_revokes_the_refresh_token(open_console, console_system):
    page = open_console()
    sign_in(page, "alice")
    refresh_token = page.evaluate("JSON.parse(sessionStorage.getItem('cms.session')).refreshToken")
    idp = boto3.client(
        "cognito-idp", endpoint_url=console_system["awsEndpoint"], region_name=console_system["region"],
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    refresh = dict(ClientId=console_system["userPoolClientId"], AuthFlow="REFRESH_TOKEN_AUTH",
                   AuthParameters={"REFRESH_TOKEN": refresh_token})
    assert idp.initiate_auth(**refresh)["AuthenticationResult"]["IdToken"]  # a live session's token refreshes
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    deadline = time.monotonic() + 15  # the revocation follows the sign-out (the page does not wait for it)
    while True:
        try:
            idp.initiate_auth(**refresh)
        except idp.exceptions.NotAuthorizedException:
            break
        assert time.monotonic() < deadline, "the refresh token still works after signing out"
        page.wait_for_timeout(100)
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.initiate_auth(**refresh)


def test_the_team_queue_is_the_directorys_team(open_console):
    page = open_console()
    sign_in(page, "alice")  # filed under claims in the directory
    page.get_by_role("link", name="Team queue").click()
    expect(page.get_by_role("heading", name="Waiting in the claims queue")).to_be_visible()


def test_someone_the_directory_does_not_know_has_no_team_queue(open_console):
    page = open_console()
    sign_in(page, "ava")  # an approver: her token says claims, the directory files only people who work tasks
    page.get_by_role("link", name="Team queue").click()
    expect(page.get_by_text("You belong to no team, so there is no team queue to show.")).to_be_visible()

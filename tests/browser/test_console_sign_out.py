"""Signing out in the console revokes the refresh token with Cognito (issue 12 item 16): a copy of the token
taken from the tab before it signed out refreshes nothing afterwards."""
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

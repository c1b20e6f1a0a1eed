"""`python -m local mail`'s source: the embedded moto server's `/_local/mail` route lists what moto's SES kept
(a moto internal, pinned: this fails loudly when moto changes it)."""
from __future__ import annotations

import boto3
import pytest
from moto.server import ThreadedMotoServer

from local.mail import PATH, add_mail_route, recipients, render, sent_messages


@pytest.fixture
def moto_with_mail(moto_endpoint: str):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    add_mail_route(server)
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_the_route_lists_the_messages_ses_kept(moto_with_mail: str):
    ses = boto3.client("ses", endpoint_url=moto_with_mail, region_name="us-east-1")
    ses.verify_email_identity(EmailAddress="notifications@cms.local")
    ses.send_email(
        Source="notifications@cms.local", Destination={"ToAddresses": ["alice@example.com"]},
        Message={"Subject": {"Data": "[Case management] hello"}, "Body": {"Text": {"Data": "Case: CASE-1"}}},
    )
    messages = [m for m in sent_messages(moto_with_mail + PATH) if m["source"] == "notifications@cms.local"]
    assert messages and recipients(messages[-1]) == ["alice@example.com"]
    assert messages[-1]["subject"] == "[Case management] hello" and messages[-1]["body"] == "Case: CASE-1"
    text = render(messages, "alice")
    assert "To:      alice@example.com" in text and "Case: CASE-1" in text
    assert render(messages, "nobody") == "no e-mail sent to nobody yet"

"""Webhooks: the signature as the Standard Webhooks convention defines it (its published vector, and its own
library verifying ours), which URLs may receive events, the admins' routes, and delivery: recorded once per
event and webhook, retried with growing delays, dead-lettered after the last attempt."""
from __future__ import annotations

import json
import time

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook, WebhookVerificationError

from chalicelib.adapters.memory.webhooks import InMemoryRetryQueue, InMemoryWebhookStore
from chalicelib.domain.integration_events import event_id
from chalicelib.domain.webhooks import (
    DeliveryStatus, WebhookRequest, check_url, new_secret, sign,
)
from chalicelib.errors import Forbidden, InvalidInput, NotFound
from chalicelib.services.webhook_delivery import RetryPolicy, SendResult, WebhookDelivery
from chalicelib.services.webhooks import WebhookService
from chalicelib.settings import Settings
from tests.api_support import POOL, expect
from tests.support import FixedClock, fields_of, principal

ADMIN, CASEWORKER = principal("ada", "admin"), principal("alice", "caseworker")


class TestSignature:
    def test_the_conventions_published_vector(self):
        # https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md (example)
        signature = sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                         b'{"test": 2432232314}')
        assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    def test_the_conventions_library_verifies_a_signature_of_ours(self):
        secret, body, timestamp = new_secret(), b'{"id":"e1","type":"case.created"}', int(time.time())
        headers = {"webhook-id": "e1", "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(secret, "e1", timestamp, body)}
        assert StandardWebhook(secret).verify(body, headers) == json.loads(body)
        with pytest.raises(WebhookVerificationError):
            StandardWebhook(new_secret()).verify(body, headers)

    def test_secrets_are_random_and_in_the_conventions_form(self):
        first, second = new_secret(), new_secret()
        assert first != second and first.startswith("whsec_") and len(first) > 40


class TestUrls:
    @pytest.mark.parametrize("url", ["https://hooks.example.org/cms", "https://93.184.216.34:8443/in"])
    def test_https_to_a_public_host_is_accepted_everywhere(self, url):
        assert check_url(url, allow_loopback_http=False) == url

    @pytest.mark.parametrize("url", ["http://127.0.0.1:9000/hook", "http://localhost/x", "http://[::1]:80/"])
    def test_http_to_loopback_only_where_the_stage_allows_it(self, url):
        assert check_url(url, allow_loopback_http=True) == url
        with pytest.raises(InvalidInput):
            check_url(url, allow_loopback_http=False)

    @pytest.mark.parametrize("url", [
        "http://hooks.example.org/x", "ftp://hooks.example.org/x", "https://10.0.0.5/x", "https://169.254.169.254/",
        "https://127.0.0.1/x", "https://user:pw@hooks.example.org/x", "not a url", "https:///nohost",
        "https://hooks.example.org:99999/x",
    ])
    def test_anything_else_is_refused_naming_the_url(self, url):
        with pytest.raises(InvalidInput) as refused:
            check_url(url, allow_loopback_http=True)
        assert fields_of(refused.value) == ["url"]


@pytest.fixture
def store() -> InMemoryWebhookStore:
    return InMemoryWebhookStore()


@pytest.fixture
def webhooks(store) -> WebhookService:
    return WebhookService(store, allow_loopback_http=True, clock=FixedClock())


def deliveries(service: WebhookService, webhook_id: str):
    """The webhook's deliveries, newest first (these tests make fewer than a page)."""
    return service.deliveries(ADMIN, webhook_id, 25, None).items


def register(service: WebhookService, url: str = "https://hooks.example.org/in", events=("case.created",)):
    return service.register(ADMIN, WebhookRequest(url=url, events=list(events)))


class TestManagement:
    def test_the_secret_is_shown_once_and_stored_for_signing(self, webhooks, store):
        registered = register(webhooks, events=["case.created", "task.assigned", "case.created"])
        assert registered.secret.startswith("whsec_") and registered.events == ["case.created", "task.assigned"]
        assert store.get(registered.id).secret == registered.secret
        listed = webhooks.list_webhooks(ADMIN)
        assert [w.id for w in listed] == [registered.id] and "secret" not in listed[0].to_api()

    def test_only_admins_manage_webhooks(self, webhooks):
        registered = register(webhooks)
        for action in (
            lambda: webhooks.register(CASEWORKER, WebhookRequest(url="https://x.example", events=["case.created"])),
            lambda: webhooks.list_webhooks(CASEWORKER), lambda: webhooks.delete(CASEWORKER, registered.id),
            lambda: webhooks.deliveries(CASEWORKER, registered.id, 25, None),
        ):
            with pytest.raises(Forbidden):
                action()

    def test_a_deleted_webhook_is_gone(self, webhooks):
        registered = register(webhooks)
        assert webhooks.delete(ADMIN, registered.id).id == registered.id
        with pytest.raises(NotFound):
            webhooks.delete(ADMIN, registered.id)
        with pytest.raises(NotFound):
            webhooks.deliveries(ADMIN, registered.id, 25, None)


class TestSettings:
    def test_the_bus_queues_timeout_and_retries_come_from_the_stages_environment(self):
        settings = Settings.from_env({
            "STAGE": "prod", "WEBHOOK_QUEUE_URL": "https://sqs/q", "WEBHOOK_DLQ_URL": "https://sqs/dlq",
            "WEBHOOK_ALLOW_HTTP_LOOPBACK": "TRUE", "WEBHOOK_TIMEOUT_SECONDS": "2.5", "WEBHOOK_MAX_ATTEMPTS": "4",
            "WEBHOOK_RETRY_BASE_SECONDS": "1",
        })
        assert (settings.event_bus_name, settings.webhook_queue_url, settings.webhook_dead_letter_url) == (
            "cms-prod", "https://sqs/q", "https://sqs/dlq")
        assert settings.webhook_allow_loopback_http is True and settings.webhook_timeout_seconds == 2.5
        assert (settings.webhook_max_attempts, settings.webhook_retry_base_seconds) == (4, 1)
        assert Settings.from_env({"STAGE": "prod", "EVENT_BUS_NAME": "other"}).event_bus_name == "other"

    def test_without_them_https_only_three_seconds_six_attempts_thirty_seconds_apart_at_first(self):
        settings = Settings.from_env({})
        assert (settings.event_bus_name, settings.webhook_queue_url, settings.webhook_dead_letter_url) == (
            "cms-local", None, None)
        assert settings.webhook_allow_loopback_http is False and settings.webhook_timeout_seconds == 3
        assert (settings.webhook_max_attempts, settings.webhook_retry_base_seconds) == (6, 30)


class ScriptedSender:
    """Answers each URL with the next status of its script (None: no answer); records every request."""

    def __init__(self, **scripts: list[int | None]) -> None:
        self.scripts = scripts
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        self.requests.append((url, body, headers))
        script = self.scripts.get(url.rsplit("/", 1)[-1], [204])
        status = script.pop(0) if len(script) > 1 else script[0]
        return SendResult(status, None if status else "no answer: timed out")


def bus_message(seq: int = 1, type: str = "case.created") -> tuple[str, str]:
    event = {"id": event_id("case1", seq), "type": type, "version": 1, "time": f"2026-03-01T12:00:0{seq}Z",
             "caseId": "case1", "actor": "alice", "audit": {"seq": seq, "hash": "a" * 64}, "data": {}}
    return f"m{seq}", json.dumps({"source": "cms.cases", "detail-type": type, "detail": event})


class TestDelivery:
    def delivery(self, store, sender, queue, attempts=3):
        return WebhookDelivery(store, sender, queue, RetryPolicy(attempts, 10), clock=FixedClock(),
                               unix_time=lambda: 1_900_000_000)

    def test_an_event_goes_signed_to_each_webhook_that_wants_its_type(self, webhooks, store):
        ok, other = register(webhooks, "https://a.example/ok"), register(webhooks, events=["task.assigned"])
        sender, queue = ScriptedSender(), InMemoryRetryQueue()
        assert self.delivery(store, sender, queue).handle([bus_message()]) == []
        [(url, body, headers)] = sender.requests
        assert url == ok.url and json.loads(body)["id"] == headers["webhook-id"] == event_id("case1", 1)
        assert headers["webhook-signature"] == sign(ok.secret, headers["webhook-id"], 1_900_000_000, body)
        [delivery] = deliveries(webhooks, ok.id)
        assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
        assert deliveries(webhooks, other.id) == []

    def test_an_event_that_comes_again_is_not_delivered_again(self, webhooks, store):
        register(webhooks)
        sender, queue = ScriptedSender(), InMemoryRetryQueue()
        delivery = self.delivery(store, sender, queue)
        delivery.handle([bus_message()])
        delivery.handle([bus_message()])
        assert len(sender.requests) == 1

    def test_a_failed_attempt_is_retried_later_with_growing_delays_then_dead_lettered(self, webhooks, store):
        hook = register(webhooks, "https://a.example/down")
        sender, queue = ScriptedSender(down=[500, None, 503]), InMemoryRetryQueue()
        delivery = self.delivery(store, sender, queue)
        delivery.handle([bus_message()])
        [(retry, delay)] = queue.retries
        assert retry["retry"] == {"webhookId": hook.id, "attempt": 2} and delay == 10
        [state] = deliveries(webhooks, hook.id)
        assert (state.status, state.attempts, state.last_error, state.last_status_code) == (
            DeliveryStatus.RETRYING, 1, "HTTP 500", 500)
        delivery.handle([("r2", json.dumps(retry))])
        delivery.handle([("r2", json.dumps(retry))])  # the same retry again: already made
        assert [d for _, d in queue.retries] == [10, 20] and len(sender.requests) == 2
        delivery.handle([("r3", json.dumps(queue.retries[-1][0]))])
        [state] = deliveries(webhooks, hook.id)
        assert (state.status, state.attempts, state.last_error) == (DeliveryStatus.DEAD, 3, "HTTP 503")
        [dead] = queue.dead_letters
        assert dead["webhookId"] == hook.id and dead["event"]["id"] == event_id("case1", 1)

    def test_a_retry_succeeding_marks_the_delivery_delivered(self, webhooks, store):
        hook = register(webhooks, "https://a.example/flaky")
        sender, queue = ScriptedSender(flaky=[500, 500, 200]), InMemoryRetryQueue()
        delivery = self.delivery(store, sender, queue, attempts=5)
        delivery.handle([bus_message()])
        for _ in range(2):
            delivery.handle([("r", json.dumps(queue.retries[-1][0]))])
        [state] = deliveries(webhooks, hook.id)
        assert (state.status, state.attempts, state.last_error) == (DeliveryStatus.DELIVERED, 3, None)
        assert len({headers["webhook-id"] for _, _, headers in sender.requests}) == 1  # one id on every attempt

    def test_a_retry_for_a_deleted_webhook_is_dropped(self, webhooks, store):
        hook = register(webhooks, "https://a.example/down")
        sender, queue = ScriptedSender(down=[500]), InMemoryRetryQueue()
        delivery = self.delivery(store, sender, queue)
        delivery.handle([bus_message()])
        webhooks.delete(ADMIN, hook.id)
        assert delivery.handle([("r2", json.dumps(queue.retries[0][0]))]) == []
        assert len(sender.requests) == 1

    def test_a_message_that_cannot_be_handled_is_received_again(self, webhooks, store):
        register(webhooks)

        class DownStore(InMemoryWebhookStore):
            def list_webhooks(self):
                raise ConnectionError("table unreachable")

        assert self.delivery(DownStore(), ScriptedSender(), InMemoryRetryQueue()).handle(
            [("bad", "{not json"), bus_message()]) == ["bad", "m1"]


class TestRoutes:
    @pytest.fixture
    def container(self):
        return POOL.container(env={"WEBHOOK_ALLOW_HTTP_LOOPBACK": "true"})  # as in the local stage

    def test_an_admin_registers_lists_reads_deliveries_and_deletes(self, client):
        created = expect(POOL.call(client, "POST", "/webhooks", "ada",
                                   {"url": "http://127.0.0.1:9/in", "events": ["case.created"]}), 201)
        assert created["secret"].startswith("whsec_") and created["createdBy"] == "ada"
        listed = expect(POOL.call(client, "GET", "/webhooks", "ada"), 200)["items"]
        assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]
        assert expect(POOL.call(client, "GET", f"/webhooks/{created['id']}/deliveries", "ada"), 200) == {
            "items": [], "nextCursor": None}
        expect(POOL.call(client, "DELETE", f"/webhooks/{created['id']}", "ada"), 200)
        expect(POOL.call(client, "DELETE", f"/webhooks/{created['id']}", "ada"), 404, "NOT_FOUND")

    @pytest.mark.parametrize("user", ["alice", "sam", "aud"])
    def test_anyone_else_gets_403(self, client, user):
        for method, path, body in (("POST", "/webhooks", {"url": "https://x.example/", "events": ["case.created"]}),
                                   ("GET", "/webhooks", None), ("DELETE", "/webhooks/wh_1", None),
                                   ("GET", "/webhooks/wh_1/deliveries", None)):
            expect(POOL.call(client, method, path, user, body), 403, "FORBIDDEN")

    @pytest.mark.parametrize("body, field", [
        ({"url": "https://x.example/", "events": ["case.exploded"]}, "events[0]"),
        ({"url": "https://x.example/", "events": []}, "events"),
        ({"url": "http://hooks.example.org/", "events": ["case.created"]}, "url"),
        ({"url": "https://x.example/", "events": ["case.created"], "secret": "mine"}, "secret"),
    ])
    def test_bad_registrations_get_400_naming_the_field(self, client, body, field):
        expect(POOL.call(client, "POST", "/webhooks", "ada", body), 400, "VALIDATION_ERROR", field)

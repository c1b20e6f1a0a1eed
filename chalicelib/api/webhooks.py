"""Webhooks (admins): subscribe a URL to integration event types, list and delete subscriptions, and read a
subscription's deliveries. Delivery itself runs in its own function (webhook_delivery.py)."""
from __future__ import annotations

from ..bootstrap import container
from ..domain.queries import DEFAULT_PAGE, PAGE
from ..domain.webhooks import DeliveryList, RegisteredWebhook, Webhook, WebhookList, WebhookRequest
from ..errors import Forbidden
from ..web import ApiRequest, Routes
from . import blueprint

routes = Routes(blueprint())


@routes.route(
    "/webhooks", "POST", summary="Register a webhook; the answer shows its signing secret, once (admins)",
    body=WebhookRequest, response=RegisteredWebhook, status=201, raises=(Forbidden,),
)
def register_webhook(req: ApiRequest[WebhookRequest]) -> RegisteredWebhook:
    return container().integration.webhooks.register(req.principal, req.body)


@routes.route("/webhooks", "GET", summary="The webhooks, without their secrets (admins)", response=WebhookList,
              raises=(Forbidden,))
def list_webhooks(req: ApiRequest[None]) -> WebhookList:
    return WebhookList(items=container().integration.webhooks.list_webhooks(req.principal))


@routes.route("/webhooks/{webhook_id}", "DELETE", summary="Delete a webhook: nothing more is delivered to it (admins)",
              response=Webhook, raises=(Forbidden,))
def delete_webhook(req: ApiRequest[None], webhook_id: str) -> Webhook:
    return container().integration.webhooks.delete(req.principal, webhook_id)


@routes.route(
    "/webhooks/{webhook_id}/deliveries", "GET",
    summary="A webhook's deliveries, newest first: status, attempts, last error (admins)",
    response=DeliveryList, query=PAGE, raises=(Forbidden,),
)
def list_webhook_deliveries(req: ApiRequest[None], webhook_id: str) -> DeliveryList:
    return container().integration.webhooks.deliveries(
        req.principal, webhook_id, req.int_query("limit", DEFAULT_PAGE), req.query("cursor"),
    )

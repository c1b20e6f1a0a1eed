"""Notifications for people: mine (newest first, unread ones only on request), marking them read, the bell's
unread count, and which kinds also come by e-mail."""
from __future__ import annotations

from ..bootstrap import container
from ..domain.notifications import (
    DEFAULT_PAGE, Notification, NotificationPage, Preferences, PreferencesUpdate, ReadAllResult, UnreadCount,
)
from ..web import ApiRequest, Routes
from . import blueprint

routes = Routes(blueprint())


@routes.route(
    "/notifications", "GET", summary="Your notifications, newest first", response=NotificationPage,
    query=("unread", "limit", "cursor"),
)
def list_notifications(req: ApiRequest[None]) -> NotificationPage:
    return container().notifications.list(
        req.principal, req.query("unread"), req.int_query("limit", DEFAULT_PAGE), req.query("cursor"),
    )


@routes.route(
    "/notifications/unread-count", "GET", summary="How many of your notifications are unread (the bell)",
    response=UnreadCount,
)
def count_unread_notifications(req: ApiRequest[None]) -> UnreadCount:
    return container().notifications.unread_count(req.principal)


@routes.route(
    "/notifications/{notification_id}/read", "POST", summary="Mark one of your notifications read",
    response=Notification,
)
def read_notification(req: ApiRequest[None], notification_id: str) -> Notification:
    return container().notifications.mark_read(req.principal, notification_id)


@routes.route(
    "/notifications/read-all", "POST", summary="Mark all your notifications read", response=ReadAllResult,
)
def read_all_notifications(req: ApiRequest[None]) -> ReadAllResult:
    return container().notifications.mark_all_read(req.principal)


@routes.route(
    "/me/preferences", "GET", summary="Your notification preferences (which kinds also come by e-mail)",
    response=Preferences,
)
def get_preferences(req: ApiRequest[None]) -> Preferences:
    return container().notifications.preferences(req.principal)


@routes.route(
    "/me/preferences", "PUT", summary="Choose which kinds of notification also come by e-mail",
    body=PreferencesUpdate, response=Preferences,
)
def put_preferences(req: ApiRequest[PreferencesUpdate]) -> Preferences:
    return container().notifications.update_preferences(req.principal, req.body)

"""The in-memory twin of adapters/dynamo/notifications.py (the contract tests keep it honest)."""
from __future__ import annotations

import threading
from typing import Optional

from ...domain.notifications import Notification, Preferences


class InMemoryNotificationStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._notifications: dict[str, dict[str, Notification]] = {}  # by recipient, by id
        self._preferences: dict[str, Preferences] = {}

    def add(self, notification: Notification) -> bool:
        with self._lock:
            mine = self._notifications.setdefault(notification.recipient, {})
            if notification.id in mine:
                return False
            mine[notification.id] = notification
            return True

    def get(self, username: str, notification_id: str) -> Optional[Notification]:
        return self._notifications.get(username, {}).get(notification_id)

    def page(
        self, username: str, unread_only: bool, limit: int, after: Optional[str],
    ) -> tuple[list[Notification], Optional[str]]:
        with self._lock:
            ordered = sorted(self._notifications.get(username, {}).values(), key=lambda n: n.id, reverse=True)
        found = [n for n in ordered if (after is None or n.id < after) and not (unread_only and n.read)]
        return found[:limit], (found[limit - 1].id if len(found) > limit else None)

    def mark_read(self, username: str, notification_id: str, at: str) -> Optional[Notification]:
        with self._lock:
            mine = self._notifications.get(username, {})
            notification = mine.get(notification_id)
            if notification is None or notification.read:
                return notification
            mine[notification_id] = notification.model_copy(update={"read_at": at})
            return mine[notification_id]

    def count_unread(self, username: str, at_most: int) -> int:
        return min(at_most, sum(1 for n in self._notifications.get(username, {}).values() if not n.read))

    def get_preferences(self, username: str) -> Preferences:
        return self._preferences.get(username, Preferences())

    def save_preferences(self, username: str, preferences: Preferences) -> None:
        self._preferences[username] = Preferences(email_kinds=preferences.email_kinds)

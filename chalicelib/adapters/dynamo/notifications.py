"""People's notifications on the table: one partition per person (`NOTIFY#<username>`), newest first; the unread
ones also in the sparse inbox index under `UNREAD#<username>`, which the `unread` listing and the bell's count
read. Keys: keys.py."""
from __future__ import annotations

from typing import Any, Optional

from pynamodb.exceptions import PutError, UpdateError

from ...domain.notifications import Notification, Preferences, expires_at
from . import keys
from .errors import response_code, stored, translated
from .models import OnTable

_CONDITION_FAILED = "ConditionalCheckFailedException"


class DynamoNotificationStore(OnTable):
    def add(self, notification: Notification) -> bool:
        n = self._m.notification
        item = n(
            keys.notifications_pk(notification.recipient), keys.note_sk(notification.id),
            body=notification.to_api(), expires_at=expires_at(notification.created_at),
            **({} if notification.read else _unread_keys(notification)),
        )
        with translated():
            try:
                item.save(condition=n.pk.does_not_exist())
            except PutError as exc:
                if response_code(exc) == _CONDITION_FAILED:
                    return False  # delivered before
                raise
        return True

    def get(self, username: str, notification_id: str) -> Optional[Notification]:
        item = stored(self._m.notification, keys.notifications_pk(username), keys.note_sk(notification_id))
        return None if item is None else Notification.model_validate(item.body)

    def page(
        self, username: str, unread_only: bool, limit: int, after: Optional[str],
    ) -> tuple[list[Notification], Optional[str]]:
        n = self._m.notification
        with translated():
            if unread_only:
                start = _index_key(username, after) if after else None
                found = n.inbox.query(
                    keys.unread_pk(username), n.inbox_sk.startswith(keys.NOTE_PREFIX), scan_index_forward=False,
                    limit=limit + 1, last_evaluated_key=start,
                )
            else:
                start = _table_key(username, after) if after else None
                found = n.query(
                    keys.notifications_pk(username), n.sk.startswith(keys.NOTE_PREFIX), scan_index_forward=False,
                    limit=limit + 1, last_evaluated_key=start, consistent_read=True,
                )
            items = [Notification.model_validate(item.body) for item in found]
        # One more than asked: a cursor only when there is a next page.
        return items[:limit], (items[limit - 1].id if len(items) > limit else None)

    def mark_read(self, username: str, notification_id: str, at: str) -> Optional[Notification]:
        n = self._m.notification
        item = stored(n, keys.notifications_pk(username), keys.note_sk(notification_id))
        if item is None:
            return None
        notification = Notification.model_validate(item.body)
        if notification.read:
            return notification
        marked = notification.model_copy(update={"read_at": at})
        with translated():
            try:  # only while unread: of two concurrent readers, the first one's time stays
                item.update(
                    actions=[n.body.set(marked.to_api()), n.inbox_pk.remove(), n.inbox_sk.remove()],
                    condition=n.inbox_pk.exists(),
                )
            except UpdateError as exc:
                if response_code(exc) != _CONDITION_FAILED:
                    raise
                return self.get(username, notification_id)
        return marked

    def count_unread(self, username: str, at_most: int) -> int:
        n = self._m.notification
        with translated():
            counted = n.inbox.count(keys.unread_pk(username), limit=at_most)  # DynamoDB stops at the limit
        return min(at_most, int(counted))  # moto counts past it

    def get_preferences(self, username: str) -> Preferences:
        item = stored(self._m.preferences, keys.notifications_pk(username), keys.PREFERENCES_SK)
        return Preferences() if item is None else Preferences.model_validate(item.body)

    def save_preferences(self, username: str, preferences: Preferences) -> None:
        body = preferences.model_dump(mode="json", by_alias=True, include={"email_kinds"})
        with translated():
            self._m.preferences(keys.notifications_pk(username), keys.PREFERENCES_SK, body=body).save()


def _unread_keys(notification: Notification) -> dict[str, str]:
    return {"inbox_pk": keys.unread_pk(notification.recipient), "inbox_sk": keys.note_sk(notification.id)}


def _table_key(username: str, notification_id: str) -> dict[str, Any]:
    return {"PK": {"S": keys.notifications_pk(username)}, "SK": {"S": keys.note_sk(notification_id)}}


def _index_key(username: str, notification_id: str) -> dict[str, Any]:
    return {
        **_table_key(username, notification_id),
        "inboxPk": {"S": keys.unread_pk(username)}, "inboxSk": {"S": keys.note_sk(notification_id)},
    }

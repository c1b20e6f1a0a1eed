"""The user pool as a directory of roles and e-mail addresses (the personnel directory records neither)."""
from __future__ import annotations

from typing import Any, Callable, Optional

from .lazy_client import LazyClient


class CognitoUserDirectory:
    def __init__(self, user_pool_id: str, client_factory: Callable[[], Any]) -> None:
        self._pool, self._client = user_pool_id, LazyClient(client_factory)

    def members(self, group: str) -> list[str]:
        pages = self._client().get_paginator("list_users_in_group").paginate(UserPoolId=self._pool, GroupName=group)
        return [user["Username"] for page in pages for user in page["Users"] if user.get("Enabled", True)]

    def email(self, username: str) -> Optional[str]:
        client = self._client()
        try:
            user = client.admin_get_user(UserPoolId=self._pool, Username=username)
        except client.exceptions.UserNotFoundException:
            return None
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        return attributes.get("email")

"""In-memory twins of the user directory and the mailer, for tests and the in-memory container."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class InMemoryUserDirectory:
    groups: dict[str, list[str]] = field(default_factory=dict)  # group -> usernames
    emails: dict[str, str] = field(default_factory=dict)  # username -> address

    def members(self, group: str) -> list[str]:
        return list(self.groups.get(group, []))

    def email(self, username: str) -> Optional[str]:
        return self.emails.get(username)


@dataclass
class InMemoryMailer:
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (to, subject, text)

    def send(self, to: str, subject: str, text: str) -> None:
        self.sent.append((to, subject, text))

"""Demo users and cases for the local system. The password is shared and printed on purpose:
these accounts exist only in the local user pool."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEMO_PASSWORD = "Demo-Passw0rd!"
ROLES = ("caseworker", "supervisor", "approver", "finance", "admin", "auditor")


@dataclass(frozen=True)
class DemoUser:
    username: str
    groups: tuple[str, ...]
    team: str

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"

    def to_stack(self) -> dict[str, Any]:
        return {"username": self.username, "password": DEMO_PASSWORD, "groups": list(self.groups), "team": self.team}


# One user per role, and two caseworkers in different teams so team visibility can be seen.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("alice", ("caseworker",), "claims"),
    DemoUser("bob", ("caseworker",), "complaints"),
    DemoUser("sam", ("supervisor",), "claims"),
    DemoUser("ava", ("approver",), "claims"),
    DemoUser("fin", ("finance",), "finance"),
    DemoUser("ada", ("admin",), "ops"),
    DemoUser("aud", ("auditor",), "audit"),
)

# (creator, POST /cases body); created through the case service so they look like API-made cases.
DEMO_CASES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("alice", {
        "title": "Water damage in kitchen", "caseType": "CLAIM", "priority": "HIGH", "customerId": "CUST-1001",
        "description": "Burst pipe under the sink; flooring and cabinets affected.",
        "compensation": {"amount": "1250.00", "currency": "EUR"}, "tags": ["property"],
    }),
    ("alice", {
        "title": "Stolen bicycle", "caseType": "CLAIM", "priority": "MEDIUM", "customerId": "CUST-1002",
        "description": "Bicycle stolen from a locked shed.",
    }),
    ("bob", {
        "title": "Late refund", "caseType": "COMPLAINT", "priority": "MEDIUM", "customerId": "CUST-2001",
        "description": "Refund promised three weeks ago has not arrived.",
    }),
    ("bob", {
        "title": "Rude phone agent", "caseType": "COMPLAINT", "priority": "LOW", "customerId": "CUST-2002",
    }),
    ("alice", {
        "title": "Change of address", "caseType": "GENERAL", "priority": "LOW", "customerId": "CUST-1001",
    }),
)


def user(username: str) -> DemoUser:
    for candidate in DEMO_USERS:
        if candidate.username == username:
            return candidate
    raise KeyError(username)

"""Errors the domain and services raise; the web layer maps each type to one HTTP status."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldIssue:
    field: str
    issue: str


@dataclass
class DomainError(Exception):
    message: str
    details: list[FieldIssue] = field(default_factory=list)

    def __str__(self) -> str:  # dataclass replaces Exception.__str__
        return self.message


class InvalidInput(DomainError):
    """The client sent something we refuse (400)."""


class Unauthenticated(DomainError):
    """No token, or a token we do not trust (401)."""


class Forbidden(DomainError):
    """The caller's role may not do this (403)."""


class NotFound(DomainError):
    """Absent, or present but not visible to the caller (404)."""


class Conflict(DomainError):
    """Duplicate, idempotency mismatch or illegal transition (409)."""


class PreconditionFailed(DomainError):
    """If-Match names a version that is no longer current (412)."""


class UnsupportedMediaType(DomainError):
    """The body is not JSON (415)."""


class PayloadTooLarge(DomainError):
    """Request body over the limit (413)."""


class DependencyUnavailable(DomainError):
    """A backing service is down; the client may retry (503)."""

    retry_after_seconds: int = 5


@dataclass
class TooManyRequests(DomainError):
    """The caller spent their request budget; they may retry after `retry_after_seconds` (429)."""

    retry_after_seconds: int = 1

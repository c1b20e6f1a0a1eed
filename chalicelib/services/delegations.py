"""Delegations of approvals: set, read and revoke a person's delegation (the person, if an approver, or an
admin); the approvals service checks a decision's `onBehalfOf` against it. Each set and revoke is written with
its log entry in one conditional write, and logged as a `delegation_set` / `delegation_revoked` line."""
from __future__ import annotations

import logging
from typing import Any, Optional

from ..domain.access import Principal
from ..domain.clock import Clock, iso, utc_now
from ..domain.delegations import (
    LOG_SHOWN, Delegation, DelegationLogEntry, DelegationRequest, DelegationView, check_may_manage, check_may_read,
    delegation_revoked, delegation_set, request_issues,
)
from ..errors import Conflict, InvalidInput, NotFound
from ..ports import DelegationStore, StaleWrite
from .validation import parse

log = logging.getLogger(__name__)


class DelegationService:
    def __init__(self, store: DelegationStore, clock: Clock = utc_now) -> None:
        self._store, self._clock = store, clock

    def current(self, username: str) -> Optional[Delegation]:
        """The person's delegation as stored now (for the decision that relies on it)."""
        return self._store.get_delegation(username)

    def get(self, principal: Principal, username: str) -> DelegationView:
        current = self._store.get_delegation(username)
        check_may_read(principal, username, current)
        if current is None:
            raise NotFound(f"{username} has recorded no delegation")
        return DelegationView(delegation=current, log=self._store.list_delegation_log(username, LOG_SHOWN))

    def put(self, principal: Principal, username: str, payload: Any) -> DelegationView:
        check_may_manage(principal, username)
        request = parse(DelegationRequest, payload)
        now = self._clock()
        issues = request_issues(username, request, now)
        if issues:
            raise InvalidInput("invalid delegation", issues)
        current = self._store.get_delegation(username)
        delegation, entry = delegation_set(username, request, principal.username, iso(now), current)
        self._save(delegation, entry)
        return DelegationView(delegation=delegation, log=self._store.list_delegation_log(username, LOG_SHOWN))

    def revoke(self, principal: Principal, username: str) -> DelegationView:
        check_may_manage(principal, username)
        current = self._store.get_delegation(username)
        if current is None:
            raise NotFound(f"{username} has recorded no delegation")
        if current.revoked_at is not None:
            raise Conflict(f"{username}'s delegation was already revoked by {current.revoked_by}")
        revoked, entry = delegation_revoked(current, principal.username, iso(self._clock()))
        self._save(revoked, entry)
        return DelegationView(delegation=revoked, log=self._store.list_delegation_log(username, LOG_SHOWN))

    def _save(self, delegation: Delegation, entry: DelegationLogEntry) -> None:
        try:
            self._store.save_delegation(delegation, entry)
        except StaleWrite:
            raise Conflict(f"{delegation.username}'s delegation changed meanwhile; read it and retry") from None
        log.info(
            "%s's delegation changed", delegation.username,
            extra={"event": entry.type.value.lower(), "user": delegation.username, "to": entry.to,
                   "from": entry.from_, "until": entry.until, "actor": entry.actor, "version": entry.seq},
        )

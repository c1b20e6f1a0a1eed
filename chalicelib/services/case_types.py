"""The case type catalog: admins create, publish and retire case types; every case reads the version it was
opened under. The seed types (chalicelib/seed/case_types) are written as version 1 on first use if absent.

Published versions never change, so they are kept in the process for good; which version is current goes
through the shared cache (the process's own without one), briefly, and a publish or retire deletes it. On a
warm container a case path reads its type without a request to the table."""
from __future__ import annotations

import threading
from typing import Any, Callable, Collection, Iterable, Optional

from pydantic import BaseModel

from ..cache import Cache, NoCache
from ..cache.invalidation import current_case_type_key
from ..cache.memory import InProcessCache
from ..cache.read_through import ReadThrough
from ..domain.access import Action, Principal, require
from ..domain.case_types import (
    CaseType, CaseTypeCreate, CaseTypeDefinition, CaseTypeList, CaseTypeRules, definition_faults, seed_case_types,
)
from ..domain.clock import Clock, iso, utc_now
from ..domain.models import Case
from ..domain.queries import DEFAULT_PAGE, MAX_PAGE
from ..errors import Conflict, FieldIssue, InvalidInput, NotFound, PreconditionFailed
from ..ports import CaseTypeStore, StaleWrite
from . import cursor
from .validation import parse, parse_if_match

CURRENT_CACHE_SECONDS = 10  # how long another container may still open cases under a replaced version
SEEDED_BY = "seed"


class Head(BaseModel):
    """What the shared cache keeps of a type: which version is current, and whether it is retired."""

    version: int
    retired: bool


class CaseTypeCatalog:
    """`teams`: the teams the personnel directory knows (a definition's teams must be among them);
    `calendar_exists`: whether a calendar id names a stored calendar (none, until calendars are stored)."""

    def __init__(
        self, store: CaseTypeStore, teams: Callable[[], Collection[str]], clock: Clock = utc_now,
        cache: Optional[Cache] = None, calendar_exists: Callable[[str], bool] = lambda _: False,
        seeds: Callable[[], Iterable[CaseTypeCreate]] = seed_case_types,
    ) -> None:
        self._store, self._teams, self._clock, self._calendar_exists = store, teams, clock, calendar_exists
        self._seeds, self._seeded = seeds, False
        # Without a shared cache (a deployed stage without Redis) each container keeps the pointer itself, as
        # briefly: a publish reaches the other containers within CURRENT_CACHE_SECONDS either way.
        self._cache = InProcessCache(max_entries=1000) if cache is None or isinstance(cache, NoCache) else cache
        self._heads = ReadThrough(self._cache, CURRENT_CACHE_SECONDS, dump=Head.model_dump, load=Head.model_validate)
        self._versions: dict[tuple[str, int], CaseType] = {}
        self._lock = threading.Lock()
        self._seed_lock = threading.Lock()  # held while seeding: every other first use waits for the seeds

    # -- reads --------------------------------------------------------------------------------------

    def current(self, case_type_id: str) -> Optional[CaseType]:
        """The type's current version (with its retired flag), or None for an unknown type."""
        self._seed()
        head = self._heads.get(current_case_type_key(case_type_id), lambda: self._stored_head(case_type_id))
        if head is None:
            return None
        version = self.version(case_type_id, head.version)
        return None if version is None else version.model_copy(update={"retired": head.retired})

    def version(self, case_type_id: str, version: int) -> Optional[CaseType]:
        """One published version, as published (never retired: retiring is the type's, not a version's)."""
        self._seed()
        return self._kept_version(case_type_id, version)

    def _kept_version(self, case_type_id: str, version: int) -> Optional[CaseType]:
        key = (case_type_id, version)
        found = self._versions.get(key)
        if found is None:
            found = self._store.version(case_type_id, version)
            if found is not None:
                with self._lock:
                    self._versions[key] = found
        return found

    def of_case(self, case: Case) -> CaseType:
        """The version a case was opened under: its rules for as long as it runs."""
        found = self.version(case.case_type, case.case_type_version)
        if found is None:
            raise NotFound(f"case type {case.case_type} has no version {case.case_type_version}")
        return found

    def for_new_case(self, case_type_id: str) -> CaseType:
        """The current version of a type a case may be opened under: a 400 naming caseType otherwise."""
        found = self.current(case_type_id)
        if found is None:
            active = ", ".join(t.id for t in self._store.current_page(MAX_PAGE, None)[0] if not t.retired)
            raise InvalidInput("unknown case type", [FieldIssue("caseType", f"must be one of {active}")])
        if found.retired:
            raise InvalidInput(
                "retired case type", [FieldIssue("caseType", f"{case_type_id} is retired: it opens no new cases")],
            )
        return found

    def get(self, principal: Principal, case_type_id: str) -> CaseType:
        require(principal, Action.READ_CASES)  # every role: the types say what a case needs
        found = self.current(case_type_id)
        if found is None:
            raise NotFound(f"no case type {case_type_id}")
        return found

    def get_version(self, principal: Principal, case_type_id: str, version: int) -> CaseType:
        require(principal, Action.READ_CASES)
        found = self.version(case_type_id, version)
        if found is None:
            raise NotFound(f"case type {case_type_id} has no version {version}")
        return found

    def list(self, principal: Principal, limit: int = DEFAULT_PAGE, page_cursor: Optional[str] = None) -> CaseTypeList:
        """Every type's current version by id, retired ones too (marked), a page at a time."""
        require(principal, Action.READ_CASES)
        self._seed()
        items, next_cursor = cursor.paged("case-types", {}, limit, page_cursor, self._store.current_page)
        return CaseTypeList(items=items, next_cursor=next_cursor)

    # -- writes (admins) ----------------------------------------------------------------------------

    def create(self, principal: Principal, payload: Any) -> CaseType:
        require(principal, Action.MANAGE_CASE_TYPES)
        request = parse(CaseTypeCreate, payload)
        self._check(request)
        self._seed()
        created = self._published(request, request.id, 1, principal.username)
        if not self._store.create(created):
            raise Conflict(f"case type {request.id} exists", [FieldIssue("id", "taken: publish a new version")])
        return created  # no cache entry to delete: absences are not cached

    def publish(self, principal: Principal, case_type_id: str, payload: Any, if_match: Optional[str]) -> CaseType:
        """Version n+1 of a type, from the version named in If-Match (412 when another was published since)."""
        require(principal, Action.MANAGE_CASE_TYPES)
        expected = parse_if_match(if_match, "case type")
        request = parse(CaseTypeDefinition, payload)
        current = self._stored_current(case_type_id)
        if current.retired:
            raise Conflict(f"case type {case_type_id} is retired")
        if current.version != expected:
            raise _stale(case_type_id, current.version, expected)
        self._check(request)
        published = self._published(request, case_type_id, expected + 1, principal.username)
        try:
            self._store.publish(published)
        except StaleWrite:
            raise _stale(case_type_id, expected + 1, expected) from None
        finally:
            self._forget(case_type_id)
        return published

    def retire(self, principal: Principal, case_type_id: str) -> CaseType:
        """No new cases of the type; the running ones go on under their versions."""
        require(principal, Action.MANAGE_CASE_TYPES)
        for _ in range(3):  # a publish in between moves the head: retire the version it moved to
            current = self._stored_current(case_type_id)
            try:
                return self._store.retire(case_type_id, current.version)
            except StaleWrite:
                continue
            finally:
                self._forget(case_type_id)
        raise Conflict(f"case type {case_type_id} is changing too fast; retry")

    # -- helpers ------------------------------------------------------------------------------------

    def _check(self, rules: CaseTypeRules) -> None:
        faults = definition_faults(rules, self._teams(), self._calendar_exists)
        if faults:
            raise InvalidInput("the case type cannot work as defined", faults)

    def _published(self, rules: CaseTypeRules, case_type_id: str, version: int, by: str) -> CaseType:
        return CaseType(
            **{name: getattr(rules, name) for name in CaseTypeRules.model_fields}, id=case_type_id,
            version=version, published_at=iso(self._clock()), published_by=by,
        )

    def _stored_current(self, case_type_id: str) -> CaseType:
        """The head as the table holds it now (a writer must not act on a cached one)."""
        self._seed()
        found = self._store.current(case_type_id)
        if found is None:
            raise NotFound(f"no case type {case_type_id}")
        return found

    def _stored_head(self, case_type_id: str) -> Optional[Head]:
        head = self._store.current(case_type_id)
        if head is None:
            return None
        with self._lock:  # the head is a published version: keep it, so it is not read again
            self._versions.setdefault((head.id, head.version), head.model_copy(update={"retired": False}))
        return Head(version=head.version, retired=head.retired)

    def _forget(self, case_type_id: str) -> None:
        self._cache.delete(current_case_type_key(case_type_id))

    def _seed(self) -> None:
        """Write each seed type as version 1 unless its id is taken; once per process (a failure: next use)."""
        if self._seeded:
            return
        with self._seed_lock:
            if self._seeded:
                return
            for seed in self._seeds():  # a read (kept for good) when seeded, as in every container but the first
                if self._kept_version(seed.id, 1) is None:
                    self._store.create(self._published(seed, seed.id, 1, SEEDED_BY))
            self._seeded = True


def _stale(case_type_id: str, current: int, expected: int) -> PreconditionFailed:
    return PreconditionFailed(f"case type {case_type_id} is at version {current}, not {expected}; reload and retry")

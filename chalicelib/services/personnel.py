"""The personnel directory: admins file people into teams with skills and capacity; supervisors,
admins and auditors read it; everyone reads their own entry."""
from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any, Iterable, Optional

from ..cache import Cache
from ..cache.invalidation import PERSONNEL_DIRECTORY, person_key
from ..cache.read_through import ReadThrough
from ..domain.access import Action, Principal, Role, require
from ..domain.personnel import Person, PersonList, PersonUpsert
from ..domain.queries import DEFAULT_PAGE
from ..errors import FieldIssue, InvalidInput, NotFound
from ..ports import PersonnelRepository
from . import cursor
from .cases import Clock, iso, utc_now
from .validation import parse

# Demo and seed entries: who works tasks, and how much.
SEED_CAPACITY = 10
_WORKING_ROLES = {Role.CASEWORKER.value, Role.SUPERVISOR.value}
# Someone not in the directory (every request of theirs asks for their team) is remembered as absent this long;
# filing them (save_person) deletes the entry at once.
ABSENCE_CACHE_SECONDS = 10


class PersonnelService:
    """Reads go through `cache` when given: single entries and pages of the directory, each with the TTL;
    writes to people (here, and open-task counts moved by task changes) delete what they make stale. The
    directory's pages are cached under its generation (a value kept under PERSONNEL_DIRECTORY): a write deletes
    the generation, and so every page at once."""

    def __init__(
        self, repository: PersonnelRepository, clock: Clock = utc_now, cache: Optional[Cache] = None,
        cache_ttl: int = 60,
    ) -> None:
        self._repo, self._clock = repository, clock
        self._people: Optional[ReadThrough[Person]] = None
        self._generation: Optional[ReadThrough[str]] = None
        self._pages: Optional[ReadThrough[PersonList]] = None
        if cache is not None:
            self._people = ReadThrough(
                cache, cache_ttl, dump=Person.to_api, load=Person.model_validate,
                absent_ttl_seconds=min(cache_ttl, ABSENCE_CACHE_SECONDS),
            )
            self._generation = ReadThrough(cache, cache_ttl, dump=str, load=str)
            self._pages = ReadThrough(cache, cache_ttl, dump=PersonList.to_api, load=PersonList.model_validate)

    def put(self, principal: Principal, username: str, payload: Any) -> Person:
        require(principal, Action.MANAGE_PERSONNEL)
        request = parse(PersonUpsert, payload)
        person = Person(
            username=username, team=request.team, skills=sorted(set(request.skills)), capacity=request.capacity,
            out_of_office=request.out_of_office, supervisor=request.supervisor,
            updated_at=iso(self._clock()), updated_by=principal.username,
        )
        return self._repo.save_person(person)

    def get(self, principal: Principal, username: str) -> Person:
        if username != principal.username:
            require(principal, Action.READ_PERSONNEL)
        if self._people is None:
            person = self._repo.get_person(username)
        else:
            person = self._people.get(person_key(username), lambda: self._repo.get_person(username))
        if person is None:
            raise NotFound(f"no person {username} in the directory")
        return person

    def list(
        self, principal: Principal, team: Optional[str] = None, limit: int = DEFAULT_PAGE,
        page_cursor: Optional[str] = None,
    ) -> PersonList:
        """A team's entries by username, or every team's in team order, a page at a time."""
        require(principal, Action.READ_PERSONNEL)
        if team is not None and not team.strip():
            raise InvalidInput("empty team filter", [FieldIssue("team", "must not be empty")])

        def read() -> PersonList:
            items, next_cursor = cursor.paged(
                "personnel", {"team": team}, limit, page_cursor,
                lambda size, start: self._repo.people_page(team, size, start),
            )
            return PersonList(items=items, next_cursor=next_cursor)

        if self._generation is None or self._pages is None:
            return read()
        generation = self._generation.get(PERSONNEL_DIRECTORY, lambda: uuid.uuid4().hex)
        page = hashlib.sha256(json.dumps([team, limit, page_cursor]).encode()).hexdigest()
        return self._pages.get(f"{PERSONNEL_DIRECTORY}:{generation}:{page}", read) or read()


def seed_personnel(
    repository: PersonnelRepository, users: Iterable[tuple[str, str, Iterable[str]]], capacity: int = SEED_CAPACITY,
) -> int:
    """File (username, team, groups) users that work tasks (caseworkers, supervisors) into the
    directory, unless they are in it already, so an admin's later edits survive a re-seed.
    Each gets their team's name as a skill. Returns how many entries were created."""
    created = 0
    for username, team, groups in users:
        groups = set(groups)
        if not groups & _WORKING_ROLES or repository.get_person(username) is not None:
            continue
        repository.save_person(
            Person(
                username=username, team=team, skills=[team], capacity=capacity,
                supervisor=Role.SUPERVISOR.value in groups, updated_by="seed",
            )
        )
        created += 1
    return created

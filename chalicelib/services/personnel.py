"""The personnel directory: admins file people into teams with skills and capacity; supervisors,
admins and auditors read it; everyone reads their own entry."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from ..domain.access import Action, Principal, Role, require
from ..domain.personnel import Person, PersonUpsert
from ..errors import FieldIssue, InvalidInput, NotFound
from ..ports import PersonnelRepository
from .cases import Clock, iso, utc_now
from .validation import parse

# Demo and seed entries: who works tasks, and how much.
SEED_CAPACITY = 10
_WORKING_ROLES = {Role.CASEWORKER.value, Role.SUPERVISOR.value}


class PersonnelService:
    def __init__(self, repository: PersonnelRepository, clock: Clock = utc_now) -> None:
        self._repo, self._clock = repository, clock

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
        person = self._repo.get_person(username)
        if person is None:
            raise NotFound(f"no person {username} in the directory")
        return person

    def list(self, principal: Principal, team: Optional[str] = None) -> list[Person]:
        require(principal, Action.READ_PERSONNEL)
        if team is not None:
            if not team.strip():
                raise InvalidInput("empty team filter", [FieldIssue("team", "must not be empty")])
            return self._repo.list_people(team)
        return [person for name in self._repo.list_teams() for person in self._repo.list_people(name)]


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

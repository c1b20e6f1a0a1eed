"""Who gets a task: assignment rules (configured per case type and priority) and the policies they
name. Pure functions over a snapshot of the team's directory entries; the task service stores the
outcome with conditional writes, so a stale snapshot costs a retry, never an over-full inbox.

Eligible for regular work: members of the team who are not supervisors, not out of office, below
their capacity and holding every required skill. Supervisors receive the team's escalations.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Iterable, Optional, Sequence

from .base import ApiModel
from .models import Priority
from .personnel import Person, has_capacity, is_out_of_office


class AssignmentPolicy(str, Enum):
    SKILLS_MATCH = "SKILLS_MATCH"  # the best overlap of skills with the case's tags, then least loaded
    LEAST_LOADED = "LEAST_LOADED"  # the fewest allocated OPEN tasks
    ROUND_ROBIN = "ROUND_ROBIN"  # the next member after the team's durable cursor


class AssignmentRule(ApiModel):
    policy: AssignmentPolicy
    team: Optional[str] = None  # None: the case's team (the case type's, or the creator's)
    required_skills: list[str] = []
    priorities: list[Priority] = []  # the priorities this rule applies to; empty: all


DEFAULT_RULE = AssignmentRule(policy=AssignmentPolicy.LEAST_LOADED)


def rule_for(rules: Sequence[AssignmentRule], priority: Priority) -> AssignmentRule:
    """The first rule that applies to the priority."""
    for rule in rules:
        if not rule.priorities or priority in rule.priorities:
            return rule
    return DEFAULT_RULE


def eligible(
    people: Iterable[Person], *, team: str, today: date, required_skills: Iterable[str] = ()
) -> list[Person]:
    """Who may receive regular work now, ordered by username."""
    needed = set(required_skills)
    return sorted(
        (
            p for p in people
            if p.team == team and not p.supervisor and not is_out_of_office(p, today) and has_capacity(p)
            and needed <= set(p.skills)
        ),
        key=lambda p: p.username,
    )


def assign_least_loaded(
    people: Iterable[Person], *, team: str, today: date, required_skills: Iterable[str] = ()
) -> Optional[Person]:
    """The eligible person with the fewest allocated OPEN tasks (started or not); ties by username."""
    candidates = eligible(people, team=team, today=today, required_skills=required_skills)
    return min(candidates, key=lambda p: (p.open_tasks, p.username), default=None)


def assign_round_robin(
    people: Iterable[Person], *, team: str, today: date, after: Optional[str],
    required_skills: Iterable[str] = (),
) -> Optional[Person]:
    """The first eligible person, in username order, after `after` (the last one given work),
    wrapping around. Keeping a name rather than a position keeps the turn fair when people
    join, leave or are skipped."""
    candidates = eligible(people, team=team, today=today, required_skills=required_skills)
    if not candidates:
        return None
    if after is not None:
        for person in candidates:
            if person.username > after:
                return person
    return candidates[0]


def assign_by_skills(
    people: Iterable[Person], *, team: str, today: date, required_skills: Iterable[str] = (),
    wanted: Iterable[str] = (),
) -> Optional[Person]:
    """The eligible person holding most of the `wanted` skills (e.g. the case's tags); ties go to
    the least loaded, then by username."""
    wish = {w.lower() for w in wanted}
    candidates = eligible(people, team=team, today=today, required_skills=required_skills)
    return min(
        candidates,
        key=lambda p: (-len(wish & {s.lower() for s in p.skills}), p.open_tasks, p.username),
        default=None,
    )


def choose(
    rule: AssignmentRule, people: Iterable[Person], *, team: str, today: date, after: Optional[str] = None,
    wanted: Iterable[str] = (),
) -> Optional[Person]:
    skills = rule.required_skills
    if rule.policy == AssignmentPolicy.ROUND_ROBIN:
        return assign_round_robin(people, team=team, today=today, after=after, required_skills=skills)
    if rule.policy == AssignmentPolicy.SKILLS_MATCH:
        return assign_by_skills(people, team=team, today=today, required_skills=skills, wanted=wanted)
    return assign_least_loaded(people, team=team, today=today, required_skills=skills)


@dataclass(frozen=True)
class Plan:
    assignees: list[Optional[str]]  # per task; None: nobody eligible, the task waits in the team queue
    cursor: Optional[str]  # the round-robin cursor after the plan; None: not moved


def plan_assignments(
    rule: AssignmentRule, people: Iterable[Person], count: int, *, team: str, today: date,
    after: Optional[str] = None, wanted: Iterable[str] = (),
) -> Plan:
    """Assign `count` tasks one after another, each pick seeing the load the earlier picks added."""
    staff = {p.username: p for p in people}
    assignees: list[Optional[str]] = []
    cursor = None
    for _ in range(count):
        person = choose(rule, staff.values(), team=team, today=today, after=after, wanted=wanted)
        if person is None:
            assignees.append(None)
            continue
        assignees.append(person.username)
        staff[person.username] = person.model_copy(update={"open_tasks": person.open_tasks + 1})
        if rule.policy == AssignmentPolicy.ROUND_ROBIN:
            after = cursor = person.username
    return Plan(assignees, cursor)


def pick_supervisor(people: Iterable[Person], *, team: str, today: date) -> Optional[Person]:
    """The team's supervisor for an escalation: present, least loaded. Capacity does not apply:
    an escalation must reach someone."""
    present = [p for p in people if p.team == team and p.supervisor and not is_out_of_office(p, today)]
    return min(present, key=lambda p: (p.open_tasks, p.username), default=None)

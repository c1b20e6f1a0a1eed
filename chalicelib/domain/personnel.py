"""The personnel directory: who works in which team, with which skills, how much work they take,
and when they are away. Assignment (assignment.py) reads it; admins manage it."""
from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Optional, Union

from pydantic import BeforeValidator, Field, StrictBool, StringConstraints, model_validator

from .base import ApiModel, ApiPage, RequestModel, WholeNumber

# Team names and usernames end up in keys (`MEMBERS#<team>`, `PERSON#<username>`): no `#`.
TeamName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$")]
Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Skill = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[\w .:/-]*[\w.:/-][\w .:/-]*$")]


def _iso_date_text(value: object) -> object:
    """Only `YYYY-MM-DD` (JSON Schema's `date`): pydantic alone would read 0 or "0" as 1970-01-01."""
    if not (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
        raise ValueError("must be an ISO date, e.g. 2026-03-01")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
MAX_CAPACITY = 1000


class AbsenceWindow(RequestModel):
    """Away from `from` to `to`, both days included."""

    from_: IsoDate = Field(alias="from")
    to: IsoDate

    @model_validator(mode="after")
    def _ordered(self) -> "AbsenceWindow":
        if self.to < self.from_:
            raise ValueError("`to` must not be before `from`")
        return self


class PersonUpsert(RequestModel):
    """The profile an admin sets with PUT; the open-task counter is not part of it."""

    team: TeamName
    skills: Annotated[list[Skill], Field(max_length=30)] = []
    capacity: WholeNumber = Field(
        ge=1, le=MAX_CAPACITY, description="How many open tasks automatic assignment gives this person at most"
    )
    out_of_office: Union[StrictBool, AbsenceWindow] = Field(
        default=False, description="true/false, or a window of ISO dates {\"from\", \"to\"}"
    )
    supervisor: StrictBool = Field(
        default=False, description="Receives the team's escalations instead of its regular work"
    )


class Person(ApiModel):
    username: str
    team: str
    skills: list[str] = []
    capacity: int
    out_of_office: Union[bool, AbsenceWindow] = False
    supervisor: bool = False
    open_tasks: int = Field(default=0, description="OPEN tasks allocated to this person")
    updated_at: Optional[str] = None
    updated_by: Optional[str] = None


class PersonList(ApiPage):
    items: list[Person]


def is_out_of_office(person: Person, today: date) -> bool:
    away = person.out_of_office
    if isinstance(away, bool):
        return away
    return away.from_ <= today <= away.to


def has_capacity(person: Person, extra: int = 1) -> bool:
    return person.open_tasks + extra <= person.capacity

"""Pages of `GET /cases` read only lists the caller may see, shared by both case stores.

Each list holds cases newest first under a sort key `<createdAt>#<id>`:
  month     every case created that month (the all-cases list, sharded so no key takes every write)
  team      the team's cases
  viewer    the cases a person takes part in (creator, assignee, participant)
  assignee  / customer: an index by that field (for callers who see everything)
Who sees everything walks the month lists, newest month first, at most two per page; anyone else reads
their own viewer list and their team's list (one Query each) and the page merges the two. Filters are
applied while reading, so a list is read past cases the filters reject, never past cases the caller may
not see. The resume key is `{"before": <sort key>}` (and `"done"`: the lists already read to their end);
the month to resume in is the one of `before`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Protocol, Sequence

from ..domain.models import Case
from ..ports import CaseQuery, InvalidStartKey, StartKey

MONTHS_PER_PAGE = 2  # a page of the all-cases list reads at most this many month lists
_MAX_SORT_KEY = 1100  # an ISO time, '#' and a case id: anything longer is not a key this listing issued


@dataclass(frozen=True)
class CaseList:
    kind: str  # "month" | "team" | "viewer" | "assignee" | "customer"
    value: str


@dataclass(frozen=True)
class Listed:
    sort_key: str
    case: Case


class CaseLists(Protocol):
    """What a store offers the listing."""

    def read(self, case_list: CaseList, query: CaseQuery, before: Optional[str], limit: int) -> list[Listed]:
        """Up to `limit` cases of the list that match the query's filters, newest first, only those whose
        sort key is below `before`; fewer than `limit` only when the list has no more."""

    def months(self) -> Sequence[str]:
        """Every month (`yyyy-mm`) that may hold a case, in any order."""


def sort_key(case: Case) -> str:
    return f"{case.created_at}#{case.id}"


def month_of(created_at: str) -> str:
    return created_at[:7]


def lists_for(query: CaseQuery) -> Optional[list[CaseList]]:
    """The lists that hold every case the caller may see and the filters may pick; None: the month lists."""
    scope = query.visibility
    if not scope.everything:
        mine = [CaseList("viewer", scope.username)]
        return mine + [CaseList("team", scope.team)] if scope.team is not None else mine
    if query.assignee is not None:
        return [CaseList("assignee", query.assignee)]
    if query.customer_id is not None:
        return [CaseList("customer", query.customer_id)]
    return None


def page(store: CaseLists, query: CaseQuery, limit: int, start_key: StartKey) -> tuple[list[Case], StartKey]:
    lists = lists_for(query)
    before, done = _resume(start_key, 0 if lists is None else len(lists))
    if lists is None:
        return _month_page(store, query, limit, before)
    return _merged_page(store, query, lists, limit, before, done)


def _month_page(store: CaseLists, query: CaseQuery, limit: int, before: Optional[str]) -> tuple[list[Case], StartKey]:
    older = sorted((m for m in store.months() if before is None or m < before), reverse=True)
    found: list[Listed] = []
    for month in older[:MONTHS_PER_PAGE]:
        found += store.read(CaseList("month", month), query, before, limit - len(found))
        if len(found) == limit:
            return [f.case for f in found], {"before": found[-1].sort_key}
        before = month  # every sort key of the month sorts after the month itself
    more = len(older) > MONTHS_PER_PAGE
    return [f.case for f in found], ({"before": before} if more else None)


def _merged_page(
    store: CaseLists, query: CaseQuery, lists: list[CaseList], limit: int, before: Optional[str], done: set[int],
) -> tuple[list[Case], StartKey]:
    read = {i: store.read(lists[i], query, before, limit) for i in range(len(lists)) if i not in done}
    # A list that filled its read may hold more below its last case: nothing below that is certain yet.
    bounds = [found[-1].sort_key for found in read.values() if len(found) == limit]
    bound = max(bounds) if bounds else None
    merged: dict[str, Listed] = {}
    for found in read.values():
        for listed in found:
            if bound is None or listed.sort_key >= bound:
                merged.setdefault(listed.case.id, listed)  # a team's case the caller also takes part in
    ordered = sorted(merged.values(), key=lambda listed: listed.sort_key, reverse=True)[:limit]
    if not ordered:
        return [], None
    cut = ordered[-1].sort_key
    finished = done | {
        i for i, found in read.items() if len(found) < limit and all(f.sort_key >= cut for f in found)
    }
    if len(finished) == len(lists):
        return [listed.case for listed in ordered], None
    return [listed.case for listed in ordered], {"before": cut, "done": sorted(finished)}


def _resume(start_key: StartKey, lists: int) -> tuple[Optional[str], set[int]]:
    """The sort key to resume below and the lists read to their end; InvalidStartKey for anything else."""
    if start_key is None:
        return None, set()
    if not isinstance(start_key, dict) or not set(start_key) <= {"before", "done"}:
        raise InvalidStartKey()
    before: Any = start_key.get("before")
    done: Any = start_key.get("done", [])
    if not isinstance(before, str) or not 0 < len(before) <= _MAX_SORT_KEY:
        raise InvalidStartKey()
    if not isinstance(done, list) or not all(type(i) is int and 0 <= i < lists for i in done):
        raise InvalidStartKey()
    if len(set(done)) != len(done) or (done and len(done) >= lists):
        raise InvalidStartKey()
    return before, set(done)

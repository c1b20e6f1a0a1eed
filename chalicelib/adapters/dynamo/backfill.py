"""Moves cases written before the case lists existed (one `cases-by-created` partition, keys.CASE_LIST_PK)
into them: the case item gets its month shard and its team's list key, the people who take part in it get
their copies, its month enters the months item. Safe to repeat and to run while the app writes: a case is
rewritten only if it is still at the version and audit head read (one that moved meanwhile was rewritten by
the app, which writes every case into its lists). Run on a deployed table by scripts/backfill_case_lists.py;
the local system runs it after restoring a snapshot."""
from __future__ import annotations

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from ...domain.access import participants_of
from ..case_listing import month_of
from . import keys
from .cases import to_case
from .changes import case_item, viewer_item
from .errors import translated
from .models import TableModels


def backfill_case_lists(m: TableModels) -> int:
    """The number of cases moved into their lists."""
    moved, months = 0, set()
    with translated():
        for item in list(m.case.by_created.query(keys.CASE_LIST_PK)):  # read whole: each rewrite leaves it
            case = to_case(item)
            months.add(month_of(case.created_at))
            try:
                with TransactWrite(connection=m.connection) as tx:
                    still = (m.case.version == case.version) & (m.case.audit_seq == case.audit_seq)
                    tx.save(case_item(m, case), condition=still)
                    for username in sorted(participants_of(case)):
                        tx.save(viewer_item(m, username, case))
                moved += 1
            except TransactWriteError:
                continue  # the case moved meanwhile: the app's write put it in its lists
        if months:
            m.months(keys.CASE_MONTHS_KEY, keys.MONTHS_SK).update(actions=[m.months.months.add(months)])
    return moved

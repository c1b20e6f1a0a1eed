"""People's delegations of approvals on the table: the current one under the person's key, written only at the
version read, and its log, appended in the same transaction."""
from __future__ import annotations

from typing import Optional

from ...domain.delegations import Delegation, DelegationLogEntry
from . import keys
from .errors import saved_together, stored, translated
from .models import OnTable


class DynamoDelegationStore(OnTable):
    def get_delegation(self, username: str) -> Optional[Delegation]:
        item = stored(self._m.delegation, keys.person_pk(username), keys.DELEGATION_SK)
        return None if item is None else Delegation.model_validate(item.body)

    def save_delegation(self, delegation: Delegation, entry: DelegationLogEntry) -> None:
        d, log = self._m.delegation, self._m.delegation_log
        pk = keys.person_pk(delegation.username)
        item = d(pk, keys.DELEGATION_SK, body=delegation.to_api(), revision=delegation.version)
        condition = d.pk.does_not_exist() if delegation.version == 1 else d.revision == delegation.version - 1
        line = log(pk, keys.delegation_log_sk(entry.seq), body=entry.to_api())
        saved_together(self._m.connection, (item, condition), (line, log.pk.does_not_exist()))

    def list_delegation_log(self, username: str, limit: int) -> list[DelegationLogEntry]:
        log = self._m.delegation_log
        with translated():
            items = log.query(
                keys.person_pk(username), log.sk.startswith(keys.DELEGATION_LOG_PREFIX), consistent_read=True,
                scan_index_forward=False, limit=limit,
            )
            return [DelegationLogEntry.model_validate(item.body) for item in items]

"""Case types on the table (key formats: keys.py): each published version under the type's partition, never
changed, and the type's head (the current version, with the retired flag) in the one partition of heads, written
in the same transaction as the version it points at, only at the revision read."""
from __future__ import annotations

from typing import Any, Optional

from pynamodb.exceptions import PutError

from ...domain.case_types import CaseType
from ...ports import StartKey, StaleWrite
from .. import keyed_pages
from . import keys
from .errors import response_code, saved_together, stored, translated
from .models import OnTable
from .pages import reader


class DynamoCaseTypeStore(OnTable):
    def create(self, case_type: CaseType) -> bool:
        try:
            self._write(case_type, self._m.case_type_head.pk.does_not_exist())
        except StaleWrite:
            return False
        return True

    def publish(self, case_type: CaseType) -> None:
        self._write(case_type, self._m.case_type_head.revision == case_type.version - 1)

    def retire(self, case_type_id: str, version: int) -> CaseType:
        head = self._m.case_type_head
        item = stored(head, keys.CASE_TYPES_KEY, keys.case_type_key(case_type_id))
        if item is None or item.revision != version:
            raise StaleWrite()
        retired = CaseType.model_validate(item.body).model_copy(update={"retired": True})
        item.body = retired.to_api()
        try:
            with translated():
                item.save(condition=head.revision == version)
        except PutError as exc:
            if response_code(exc) == "ConditionalCheckFailedException":
                raise StaleWrite() from None
            raise
        return retired

    def current(self, case_type_id: str) -> Optional[CaseType]:
        item = stored(self._m.case_type_head, keys.CASE_TYPES_KEY, keys.case_type_key(case_type_id))
        return None if item is None else CaseType.model_validate(item.body)

    def version(self, case_type_id: str, version: int) -> Optional[CaseType]:
        item = stored(self._m.case_type_version, keys.case_type_key(case_type_id), keys.case_type_version_sk(version))
        return None if item is None else CaseType.model_validate(item.body)

    def current_page(self, limit: int, start_key: StartKey) -> tuple[list[CaseType], StartKey]:
        read = reader(self._m.case_type_head, lambda item: CaseType.model_validate(item.body), consistent_read=True)
        return keyed_pages.page(read, keys.case_types_list(), limit, start_key)

    def _write(self, case_type: CaseType, head_condition: Any) -> None:
        """The version and the head pointing at it, or neither: StaleWrite when the head's condition fails."""
        head, versions = self._m.case_type_head, self._m.case_type_version
        body = case_type.to_api()
        head_item = head(keys.CASE_TYPES_KEY, keys.case_type_key(case_type.id), body=body, revision=case_type.version)
        version_item = versions(
            keys.case_type_key(case_type.id), keys.case_type_version_sk(case_type.version), body=body,
        )
        saved_together(self._m.connection, (head_item, head_condition), (version_item, versions.pk.does_not_exist()))

"""DynamoDB's errors as the ports name them: unreachable or throttled → DependencyUnavailable (503, retry), a
failed condition in a transaction → StaleWrite (or IdempotencyKeyTaken), never by matching message text; and
the read of one item, a missing one being None."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Optional

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from ...errors import DependencyUnavailable
from ...ports import StaleWrite

_UNAVAILABLE = {
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable",
}


def failed_conditions(exc: TransactWriteError) -> list[bool]:
    """For each operation of a cancelled transaction, in order: whether its condition failed."""
    return [bool(r and r.code == "ConditionalCheckFailed") for r in (exc.cancellation_reasons or [])]


def response_code(exc: PynamoDBException) -> Optional[str]:
    """DynamoDB's error code, or None when the request never got an answer. pynamodb's `cause_response_code`
    raises AttributeError on a cause whose `response` is None (seen on a timed-out transaction)."""
    response = getattr(exc.cause, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    code = error.get("Code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


@contextmanager
def translated() -> Iterator[None]:
    """Map unreachable or throttled DynamoDB to 503, so clients know to retry, never a 500."""
    try:
        yield
    except PynamoDBException as exc:
        code = response_code(exc)
        if code in _UNAVAILABLE or (code is None and exc.cause is not None):  # no code: never reached DynamoDB
            raise DependencyUnavailable("the case store is unavailable; retry shortly") from exc
        if isinstance(exc, TransactWriteError) and any(
            r and r.code in _UNAVAILABLE | {"TransactionConflict"} for r in (exc.cancellation_reasons or [])
        ):
            raise DependencyUnavailable("the case store is busy; retry shortly") from exc
        raise


def stored(model: Any, pk: str, sk: str) -> Optional[Any]:
    """The item at (pk, sk), or None. Strongly consistent: a writer must read its own write (If-Match,
    replays, the head a conditional write is based on)."""
    with translated():
        try:
            return model.get(pk, sk, consistent_read=True)
        except model.DoesNotExist:
            return None


def saved_together(connection: Connection, *writes: tuple[Any, Any]) -> None:
    """Save each (item, condition) in one transaction: all or nothing, StaleWrite when a condition fails."""
    try:
        with translated(), TransactWrite(connection=connection) as tx:
            for item, condition in writes:
                tx.save(item, condition=condition)
    except TransactWriteError as exc:
        if any(failed_conditions(exc)):
            raise StaleWrite() from None
        raise

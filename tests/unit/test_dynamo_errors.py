"""DynamoDB's failures reach clients as 503 (retry), whatever shape the error pynamodb wraps has."""
from __future__ import annotations

import pytest
from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib.adapters.dynamo.errors import translated
from chalicelib.errors import DependencyUnavailable


class _Cause(Exception):
    def __init__(self, response: object) -> None:
        super().__init__("cause")
        self.response = response


@pytest.mark.parametrize("response", [None, {}, {"Error": None}, {"Error": {"Code": "ThrottlingException"}}])
def test_an_unanswered_or_throttled_request_is_dependency_unavailable(response: object) -> None:
    with pytest.raises(DependencyUnavailable):
        with translated():
            raise TransactWriteError("timed out", cause=_Cause(response))


def test_a_validation_error_stays_what_it_is() -> None:
    error = PutError("bad", cause=_Cause({"Error": {"Code": "ValidationException"}}))
    with pytest.raises(PutError):
        with translated():
            raise error

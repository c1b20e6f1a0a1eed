"""The pseudonymisation key of the case data product: from Secrets Manager on AWS (fetched once per
container, when first needed), or from the environment locally."""
from __future__ import annotations

import threading
from typing import Any, Callable, Optional

from ..errors import DependencyUnavailable

MIN_KEY_BYTES = 16


def pseudonym_key(
    value: Optional[str], secret_id: Optional[str], client_factory: Callable[[], Any],
) -> Callable[[], bytes]:
    """`value`: the key itself (PSEUDONYM_KEY); `secret_id`: a Secrets Manager secret holding it
    (PSEUDONYM_KEY_SECRET_ARN). Refuses to run without one: a default key would make the pseudonyms
    reversible by anyone who reads this code."""
    lock = threading.Lock()
    kept: list[bytes] = []

    def key() -> bytes:
        with lock:
            if not kept:
                kept.append(_fetch(value, secret_id, client_factory))
            return kept[0]

    return key


def _fetch(value: Optional[str], secret_id: Optional[str], client_factory: Callable[[], Any]) -> bytes:
    if value:
        raw = value.encode()
    elif secret_id:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            secret = client_factory().get_secret_value(SecretId=secret_id)
        except (BotoCoreError, ClientError) as exc:
            raise DependencyUnavailable("the pseudonymisation key is unavailable") from exc
        raw = secret["SecretBinary"] if "SecretBinary" in secret else secret["SecretString"].encode()
    else:
        raise RuntimeError("set PSEUDONYM_KEY or PSEUDONYM_KEY_SECRET_ARN: the case data product needs a secret key")
    if len(raw) < MIN_KEY_BYTES:
        raise RuntimeError(f"the pseudonymisation key must have at least {MIN_KEY_BYTES} bytes")
    return raw

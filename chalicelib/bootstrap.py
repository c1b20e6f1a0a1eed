"""The composition root: builds adapters and services from settings on first use (never at
import), once per Lambda container. Tests swap the whole container with `override`."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from .settings import Settings


@dataclass
class Container:
    settings: Settings
    cases: Any  # CaseService; imported lazily to keep cold starts short
    authenticator: Any  # auth.Authenticator

    def authenticate(self, request: Any) -> Any:
        return self.authenticator.authenticate(request.headers, request.context or {})


_lock = threading.Lock()
_container: Optional[Container] = None


def container() -> Container:
    global _container
    with _lock:
        if _container is None:
            _container = build(Settings.from_env())
        return _container


@contextmanager
def override(replacement: Container) -> Iterator[Container]:
    global _container
    with _lock:
        previous, _container = _container, replacement
    try:
        yield replacement
    finally:
        with _lock:
            _container = previous


def build(settings: Settings, repository: Any = None) -> Container:
    from .adapters.dynamodb import DynamoCaseRepository, table_models
    from .domain.case_types import DEFAULT_CASE_TYPES
    from .services.cases import CaseNumbers, CaseService

    if repository is None:
        repository = DynamoCaseRepository(table_models(settings.table_name, settings.region, settings.endpoint_url))
    return Container(
        settings=settings,
        cases=CaseService(repository, DEFAULT_CASE_TYPES, CaseNumbers(repository, settings.case_number_block)),
        authenticator=build_authenticator(settings),
    )


def build_authenticator(settings: Settings) -> Any:
    from .auth import Authenticator

    if settings.auth_mode == "apigateway":
        return Authenticator(verifier=None)
    if not (settings.jwks_url and settings.issuer and settings.client_id):
        raise RuntimeError(
            "token verification needs COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID (or LOCAL_STACK_FILE); "
            "start the local system with `make run`"
        )
    from .jwt_verifier import JwksCache, TokenVerifier

    return Authenticator(TokenVerifier(JwksCache(settings.jwks_url), settings.issuer, settings.client_id))

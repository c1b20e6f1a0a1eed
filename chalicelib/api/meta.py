"""The API about itself: liveness and the OpenAPI document of every route the `Api` registered."""
from __future__ import annotations

from typing import Any

from ..web import Api, ApiRequest, Routes
from . import blueprint

APP_NAME = "case-management"
API_VERSION = "0.1.0"


def routes(documented: Api) -> Routes:
    meta = Routes(blueprint())

    @meta.route("/health", "GET", summary="Liveness of the API", public=True)
    def health(req: ApiRequest[None]) -> dict[str, Any]:
        return {"status": "ok", "service": APP_NAME, "version": API_VERSION}

    @meta.route("/openapi.json", "GET", summary="This API's OpenAPI document", public=True)
    def openapi(req: ApiRequest[None]) -> dict[str, Any]:
        from ..openapi import build_document  # pydantic's JSON Schema machinery, only when asked

        return build_document(documented.specs, "Case Management System API", API_VERSION)

    return meta

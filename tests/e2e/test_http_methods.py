"""A method a path does not serve is answered 405 with `Allow`, whatever the method, over real HTTP."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("method", ["TRACE", "DELETE", "PUT", "HEAD", "PROPFIND"])
def test_a_method_the_path_does_not_serve_is_405_with_allow(api, method):
    response = api("ada").request(method, "/cases")
    assert response.status_code == 405, response.text
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"GET", "POST"}
    if method != "HEAD":
        assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_the_allow_header_names_the_methods_of_a_path_with_parameters(api):
    response = api(None).request("TRACE", "/cases/some-case")
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"GET", "PATCH"}


def test_a_path_the_api_does_not_serve_stays_403_as_on_api_gateway(api):
    assert api("ada").request("TRACE", "/no-such-path").status_code == 403

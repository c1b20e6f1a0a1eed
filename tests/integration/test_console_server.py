"""The local console server: the console's files, the config.json the deploy would write, the workflow
definitions, and nothing else (no path escapes the folders it serves)."""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Iterator

import pytest
import requests

from local.console import ConsoleServer, console_config, content_security_policy

ROOT = Path(__file__).resolve().parents[2]
STACK = {
    "apiUrl": "http://127.0.0.1:8000", "awsEndpoint": "http://127.0.0.1:4566", "region": "us-east-1",
    "userPoolId": "us-east-1_abc", "userPoolClientId": "client123",
}


@pytest.fixture(scope="module")
def console_url() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ConsoleServer(ROOT / "console", ROOT / "stepfunctions", console_config(STACK), "127.0.0.1", port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_index_and_modules_are_served_with_their_types(console_url):
    index = requests.get(console_url + "/", timeout=5)
    assert index.status_code == 200 and index.headers["Content-Type"].startswith("text/html")
    assert 'src="js/main.js"' in index.text
    module = requests.get(console_url + "/js/main.js", timeout=5)
    assert module.status_code == 200 and module.headers["Content-Type"] == "text/javascript"
    assert requests.get(console_url + "/styles.css", timeout=5).headers["Content-Type"] == "text/css"


def test_config_json_tells_the_console_where_the_api_and_cognito_are(console_url):
    config = requests.get(console_url + "/config.json", timeout=5).json()
    assert config == {
        "apiBaseUrl": "http://127.0.0.1:8000", "region": "us-east-1", "userPoolId": "us-east-1_abc",
        "userPoolClientId": "client123", "cognitoEndpoint": "http://127.0.0.1:4566/",
    }


def test_the_case_workflow_asl_is_served_as_the_state_machine_runs_it(console_url):
    served = requests.get(console_url + "/asl/case_workflow.asl.json", timeout=5)
    assert served.status_code == 200
    assert served.json() == json.loads((ROOT / "stepfunctions" / "case_workflow.asl.json").read_text())


@pytest.mark.parametrize("path", [
    "/asl/README.md", "/asl/../app.py", "/../app.py", "/%2e%2e/app.py", "/js/../../app.py", "/.gitignore",
    "/js/", "/missing.js",
])
def test_nothing_outside_the_served_files_is_reachable(console_url, path):
    with socket.create_connection(("127.0.0.1", int(console_url.rsplit(":", 1)[1])), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        status_line = sock.makefile("rb").readline().decode()
    assert " 404 " in status_line, (path, status_line)


def test_responses_carry_a_content_security_policy_limited_to_the_api_and_cognito(console_url):
    headers = requests.get(console_url + "/", timeout=5).headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert "connect-src 'self' http://127.0.0.1:4566 http://127.0.0.1:8000" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    config = {"apiBaseUrl": "/api", "cognitoEndpoint": "https://cognito-idp.eu-west-1.amazonaws.com/"}
    assert content_security_policy(config) \
        .count("connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com;") == 1

"""Guards for the layering the design card asks for."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_domain_imports_no_aws_and_no_web_framework():
    for path in (ROOT / "chalicelib" / "domain").rglob("*.py"):
        assert not _imports(path) & {"boto3", "botocore", "chalice", "pynamodb", "redis"}, path


def test_shipped_code_never_imports_the_local_system_or_test_tools():
    for path in [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]:
        assert not _imports(path) & {"local", "moto", "pytest", "localstack_client"}, path


def _routes_with_authorizer(auth_mode: str) -> dict[str, bool]:
    code = (
        "import json, app\n"
        "print(json.dumps({f'{m} {p}': e.authorizer is not None for p, ms in app.app.routes.items() "
        "for m, e in ms.items()}))"
    )
    env = {**os.environ, "AUTH_MODE": auth_mode}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return __import__("json").loads(out.stdout.strip().splitlines()[-1])


def test_on_aws_every_route_but_health_and_openapi_uses_the_cognito_authorizer():
    routes = _routes_with_authorizer("apigateway")
    public = {"GET /health", "GET /openapi.json"}
    assert {r for r, has in routes.items() if not has} == public
    assert all(has for r, has in routes.items() if r not in public)


def test_locally_the_app_verifies_tokens_itself_instead_of_chalice_locals_imitation():
    assert not any(_routes_with_authorizer("verify").values())


def test_test_modules_have_unique_names():
    # pytest imports test modules by basename (rootdir mode, no packages): two of one name abort collection.
    names = [path.name for path in (ROOT / "tests").rglob("test_*.py")]
    assert sorted({name for name in names if names.count(name) > 1}) == []

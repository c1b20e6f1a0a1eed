"""The deployment package `make package` builds: bytecode for the template's runtime beside every module,
nothing no function imports, within the size budget, and it still imports and serves every function."""
from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))
import precompile

from app import app
from local.lambdas import lambda_function_names

ROOT = Path(__file__).resolve().parents[2]
PEP552_UNCHECKED_HASH = 0b01  # flags: hash-based, source not checked


@pytest.fixture(scope="module")
def package(build: Path) -> Iterator[zipfile.ZipFile]:
    with zipfile.ZipFile(build / "deployment.zip") as opened:
        yield opened


@pytest.fixture(scope="module")
def cache_tag(build: Path) -> str:
    runtime = precompile.declared_runtime((build / "sam.yaml").read_text())
    return "cpython-" + runtime.removeprefix("python").replace(".", "")


def test_the_zip_stays_within_its_size_budget(build):
    assert (build / "deployment.zip").stat().st_size <= precompile.MAX_ZIP_BYTES == 20 * 1024 * 1024


def test_every_shipped_module_has_unchecked_hash_bytecode_for_the_runtime_version(package, cache_tag):
    if sys.implementation.cache_tag != cache_tag:
        pytest.fail(f"the template's runtime is {cache_tag}, these tests run on {sys.implementation.cache_tag}: "
                    "its bytecode cannot be checked here")
    names = set(package.namelist())
    sources = sorted(name for name in names if name.endswith(".py"))
    assert len(sources) > 500  # the code and its dependencies, not an empty or truncated zip
    for source in sources:
        path = PurePosixPath(source)
        pyc = str(path.parent / "__pycache__" / f"{path.stem}.{cache_tag}.pyc").removeprefix("./")
        assert pyc in names, f"{source} has no {pyc}"
        header = package.read(pyc)[:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER, f"{pyc} was compiled by another Python version"
        assert int.from_bytes(header[4:8], "little") == PEP552_UNCHECKED_HASH, f"{pyc} is not unchecked-hash based"
        assert header[8:16] == importlib.util.source_hash(package.read(source)), f"{pyc} is stale: not of {source}"


def test_no_bytecode_of_another_version_and_nothing_no_function_imports(package, cache_tag):
    for name in package.namelist():
        path = PurePosixPath(name)
        assert precompile.shipped(name) or name.endswith(f".{cache_tag}.pyc"), f"{name} should not ship"
        assert not name.endswith(".pyc") or name.endswith(f".{cache_tag}.pyc"), name
        assert path.suffix != ".pyi" and not path.parts[0].endswith("-stubs"), name
        assert "tests" not in path.parts[:-1], name


def test_every_aws_service_the_code_calls_keeps_its_botocore_model(package):
    called = {"dynamodb"}  # pynamodb's, through botocore
    for path in [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("client", "resource") and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                called.add(node.args[0].value)
    assert called <= precompile.BOTOCORE_SERVICES
    model = re.compile(r"^botocore/data/([^/]+)/[^/]+/service-2\.json")
    models = {m.group(1) for m in map(model.match, package.namelist()) if m}
    assert models == set(precompile.BOTOCORE_SERVICES)


def test_the_unzipped_package_serves_every_function_from_its_bytecode_alone(build, tmp_path):
    """In an interpreter that sees only the package (no site-packages) and may not write bytecode, as on Lambda."""
    with zipfile.ZipFile(build / "deployment.zip") as package:
        package.extractall(tmp_path)
    code = (
        "import json, os, sys\n"
        "sys.path.insert(0, os.getcwd())\n"
        "import app\n"
        "root = os.path.realpath(os.getcwd())\n"
        "specs = [m.__spec__ for m in list(sys.modules.values()) if getattr(m, '__spec__', None)\n"
        "         and (m.__spec__.origin or '').startswith(root) and m.__spec__.origin.endswith('.py')]\n"
        "print(json.dumps({'handlers': sorted(app.app.handler_map), 'routes': len(app.app.routes),\n"
        "                  'without_bytecode': sorted(s.name for s in specs if not os.path.exists(s.cached))}))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "STAGE": "dev", "AUTH_MODE": "apigateway", "AWS_REGION": "us-east-1",
           "AWS_XRAY_SDK_ENABLED": "false"}
    out = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(lambda_function_names(app)) <= set(loaded["handlers"])
    assert loaded["routes"] == len(app.routes)
    assert loaded["without_bytecode"] == []


def test_a_template_for_another_python_version_is_refused_before_the_zip_is_touched(tmp_path, capsys):
    other = f"python3.{sys.version_info.minor + 1}"
    (tmp_path / "sam.yaml").write_text(f"Resources:\n  F:\n    Properties:\n      Runtime: {other}\n")
    with zipfile.ZipFile(tmp_path / "deployment.zip", "w") as package:
        package.writestr("app.py", "")
    before = (tmp_path / "deployment.zip").read_bytes()
    assert precompile.main(["precompile", str(tmp_path / "deployment.zip"), str(tmp_path / "sam.yaml")]) == 1
    assert f"declares {other}" in capsys.readouterr().err
    assert (tmp_path / "deployment.zip").read_bytes() == before


def test_the_seeded_case_types_ship_in_the_package(package):
    """chalicelib/seed/case_types/*.json are data the code reads: neither chalice nor the prune may drop them."""
    assert {"chalicelib/seed/case_types/GENERAL.json", "chalicelib/seed/case_types/CLAIM.json"} <= set(
        package.namelist())

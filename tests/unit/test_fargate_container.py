"""The processor's image cannot be built here (no Docker): these check what the Dockerfile promises by
reading it, and that the image's pinned dependencies are complete and the ones the tests run with."""
from __future__ import annotations

import ast
import json
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
FARGATE = ROOT / "fargate"
ALLOWED_THIRD_PARTY = {"boto3", "botocore", "pypdf", "PIL"}


def _instructions() -> list[tuple[str, str]]:
    text = (FARGATE / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            [spec] = requirement.specifier
            assert spec.operator == "==", line
            pins[canonicalize_name(requirement.name)] = spec.version
    return pins


def test_the_image_is_a_slim_python_311_running_the_module_as_a_non_root_user():
    steps = _instructions()
    args = dict((k, v) for k, v in steps if k == "ARG")
    assert re.match(r"PYTHON_IMAGE=python:3\.11[.\d]*-slim", args["ARG"])
    assert ("FROM", "${PYTHON_IMAGE}") in steps
    users = [value for kind, value in steps if kind == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert steps[-1][0] == "ENTRYPOINT" and json.loads(steps[-1][1]) == ["python", "-m", "processor"]
    runs = " ".join(value for kind, value in steps if kind == "RUN")
    assert "pip install --only-binary=:all: --no-deps -r requirements.txt" in runs
    # The user is switched to after everything is installed and copied: it owns nothing it could change.
    order = [kind for kind, _ in steps]
    assert order.index("USER") > max(i for i, kind in enumerate(order) if kind in ("COPY", "RUN"))


def test_the_image_requirements_are_pinned_complete_and_the_versions_tested_here():
    pins = _pins(FARGATE / "requirements.txt")
    assert {"boto3", "botocore", "pypdf", "pillow"} <= set(pins)
    # Installed with --no-deps: every dependency of every pin must itself be pinned.
    environment = {"python_version": "3.11", "extra": ""}
    for name in pins:
        for raw in metadata.requires(name) or []:
            requirement = Requirement(raw)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                assert canonicalize_name(requirement.name) in pins, f"{name} needs {requirement}"
    # The tests and the local runner use exactly what ships.
    for name, version in pins.items():
        assert metadata.version(name) == version, name
    shared = {**_pins(ROOT / "requirements.txt"), **_pins(ROOT / "requirements-dev.txt")}
    for name in ("boto3", "botocore", "pypdf", "pillow"):
        assert shared[name] == pins[name], name


def test_the_processor_imports_only_its_image_dependencies():
    stdlib = set(sys.stdlib_module_names)
    for path in (FARGATE / "processor").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module.split(".")[0]]
            for name in names:
                assert name in stdlib or name in ALLOWED_THIRD_PARTY, f"{path.name} imports {name}"

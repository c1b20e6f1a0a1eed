"""The package `make package` builds, built once per test session into a temporary folder by the same steps."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """build/ as `make package` leaves it: sam.yaml (finalized) and deployment.zip (pruned, precompiled)."""
    out = tmp_path_factory.mktemp("package") / "build"
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run(
        [str(chalice), "package", "--pkg-format", "cloudformation", "--merge-template", "deploy/template.yml",
         "--stage", "dev", str(out)],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )
    assert subprocess.run([sys.executable, "deploy/finalize.py", str(out / "sam.yaml")], cwd=ROOT).returncode == 0
    assert subprocess.run(
        [sys.executable, "deploy/precompile.py", str(out / "deployment.zip"), str(out / "sam.yaml")], cwd=ROOT,
    ).returncode == 0
    return out

"""`chalice local --stage local` on its own, next to a running local AWS endpoint: the local stage
finds the endpoint, user pool and app client in .local/stack.json and verifies tokens itself."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.local_system import ROOT
from tests.support import free_port


def test_chalice_local_serves_the_api_with_real_token_checks(local_stack, token, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "app.py", project)
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".chalice", project / ".chalice", ignore=shutil.ignore_patterns("deployments"))
    (project / ".local").mkdir()
    (project / ".local" / "stack.json").write_text(json.dumps(local_stack))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COGNITO_"))}
    chalice = Path(sys.executable).parent / "chalice"
    log = (tmp_path / "chalice.log").open("wb")
    server = subprocess.Popen(
        [str(chalice), "local", "--stage", "local", "--port", str(port), "--no-autoreload"],
        cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "chalice.log").read_text()
            try:
                if requests.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        assert requests.get(f"{base}/cases", timeout=10).status_code == 401
        forged = token("alice")[:-4] + "AAAA"
        forged_request = requests.get(f"{base}/cases", headers={"Authorization": f"Bearer {forged}"}, timeout=10)
        assert forged_request.status_code == 401
        response = requests.get(f"{base}/cases", headers={"Authorization": f"Bearer {token('alice')}"}, timeout=10)
        assert response.status_code == 200, response.text
        assert response.json()["items"], "the local system's demo cases are visible through chalice local"
    finally:
        server.terminate()
        server.wait(10)
        log.close()

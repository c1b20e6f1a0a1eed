"""The local system as `make run` starts it: its stack file, the open health route, and the token command."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROLES = {"caseworker", "supervisor", "approver", "finance", "admin", "auditor"}


def _claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_stack_file_describes_every_resource_and_demo_users_for_every_role(local_stack):
    for key in ("apiUrl", "awsEndpoint", "region", "tableName", "bucketName", "userPoolId", "userPoolClientId"):
        assert local_stack[key], key
    users = local_stack["users"]
    assert len(users) >= 7
    assert {g for u in users for g in u["groups"]} == ROLES
    assert all(u["password"] and u["team"] for u in users)
    caseworker_teams = {u["team"] for u in users if "caseworker" in u["groups"]}
    assert len(caseworker_teams) >= 2


def test_health_answers_without_a_token(api):
    response = api(None).get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_the_api_accepts_a_demo_users_token_and_shows_the_seeded_cases(api):
    response = api("alice").get("/cases")
    assert response.status_code == 200, response.text
    titles = {case["title"] for case in response.json()["items"]}
    assert "Water damage in kitchen" in titles  # seeded by alice
    assert "Late refund" not in titles  # bob's complaint: another team's case


def test_token_command_prints_an_id_token_with_the_users_groups(local_stack, local_process):
    out = subprocess.run(
        [sys.executable, "-m", "local", "token", "alice", "--state-dir", str(local_process.state_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    jwt = out.stdout.strip()
    assert len(jwt.split(".")) == 3
    claims = _claims(jwt)
    assert claims["token_use"] == "id"
    assert claims["cognito:groups"] == ["caseworker"]
    assert claims["cognito:username"] == "alice"
    assert claims["custom:team"] == "claims"


def test_token_command_without_a_running_system_says_what_to_do(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "local", "token", "alice", "--state-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode != 0
    assert "make run" in out.stderr

"""Schemathesis drives the running local system from its own OpenAPI document, with every check it has:
the document must state every rule the validation enforces, and the code must keep every promise of the
document. Configuration (seed, examples, the few rules no OpenAPI document can state): tests/e2e/fuzz/."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

FUZZ_DIR = Path(__file__).parent / "fuzz"
RUN_TIMEOUT = 600


def run_schemathesis(stack: dict[str, Any], token: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(FUZZ_DIR), "SCHEMATHESIS_HOOKS": "fuzz_hooks", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(FUZZ_DIR / "schemathesis.toml"), "run",
         f"{stack['apiUrl']}/openapi.json", "--header", f"Authorization: Bearer {token}",
         "--no-color"],
        cwd=FUZZ_DIR, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )


def failures_of(output: str) -> str:
    """The report's failures section (each with its curl to reproduce), else the whole output."""
    start = output.find(" FAILURES ")
    return output[output.rfind("\n", 0, start) + 1:] if start >= 0 else output


def test_schemathesis_finds_nothing(local_system_with: Callable[..., Any]) -> None:
    system = local_system_with()  # its own system: the fuzzer writes hundreds of cases, tasks and people
    result = run_schemathesis(system.stack, system.token("ada"))  # an admin may call every operation
    assert result.returncode == 0, f"schemathesis found failures:\n{failures_of(result.stdout)}\n{result.stderr}"

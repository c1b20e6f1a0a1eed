"""X-Ray is loaded only where tracing is on, and then patches only botocore (every AWS call, pynamodb's too)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LAMBDA = {"LAMBDA_TASK_ROOT": str(ROOT), "AWS_LAMBDA_FUNCTION_NAME": "cms-dev-api_handler", "AWS_REGION": "us-east-1"}


def imported_app(**env: str) -> dict[str, Any]:
    """What a fresh interpreter has loaded and patched after `import app` with this environment."""
    code = (
        "import json, sys, app\n"
        "patcher = sys.modules.get('aws_xray_sdk.core.patcher')\n"
        "print(json.dumps({'xray': sorted(m for m in sys.modules if m.startswith('aws_xray_sdk')),\n"
        "                  'patched': sorted(patcher._PATCHED_MODULES) if patcher else []}))\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDA_", "POWERTOOLS_"))}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_outside_lambda_the_xray_sdk_is_never_imported():
    assert imported_app()["xray"] == []


def test_in_lambda_with_xray_turned_off_the_sdk_is_never_imported():
    assert imported_app(**LAMBDA, AWS_XRAY_SDK_ENABLED="false")["xray"] == []
    assert imported_app(**LAMBDA, POWERTOOLS_TRACE_DISABLED="true")["xray"] == []


def test_in_lambda_with_tracing_on_only_botocore_is_patched():
    loaded = imported_app(**LAMBDA)
    assert loaded["xray"] and loaded["patched"] == ["botocore"]

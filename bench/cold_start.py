"""Cold start of the deployed functions, from the package `make package` built, as Lambda runs it.

Run from the repo root after `make package`:  .venv/bin/python bench/cold_start.py [runs]

build/deployment.zip is unzipped to a temporary folder, and every measured process is a fresh interpreter with
only that folder on its path (no site-packages) and bytecode writing off (`-B`: Lambda's code path is read-only,
so what the package does not bring, Python compiles on every cold start). Each process plays one function's new
execution environment: `import app`, its first invocation (which builds the container: settings, adapters, the
first AWS client) and a second, warm invocation of the same kind. The floor is `import boto3` from a precompiled
install (this virtualenv's site-packages, what Lambda's runtime has), in a fresh process of its own; runs
alternate (function, floor, function, floor, ...) so drift on the shared machine hits both alike.

The invocations are real: a moto server in this process holds the table, bucket, user pool and the case
workflow's state machine (which only records executions: none runs here, so nothing competes for the CPU), and
the functions call it over HTTP. X-Ray is on as on AWS (LAMBDA_TASK_ROOT and a trace header are set; segments go
to a UDP port nobody reads). Redis is not started: the read cache falls back to memory, as it fails open on AWS.

Figures only, no assertions. Wall times are this machine's; CPU times (process_time) are what Lambda scales
with memory, and feed the memory choice in the README.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.demo import DEMO_CASES, DEMO_USERS  # noqa: E402  (the repo root must be importable first)
from local.provision import client, provision, seed_demo_cases  # noqa: E402

ZIP = ROOT / "build" / "deployment.zip"
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 9
REGION = "us-east-1"
FULL_VCPU_MB = 1769
MEMORY_MB = (128, 256, 512, 1024, 1769)
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

# One function per kind (handler, environment on top of the deployed one, whether the package keeps its
# bytecode); each takes two events (first invocation, warm invocation) built per run. The last two rows show
# what X-Ray costs (its switch, off) and what the bytecode saves (the same files without __pycache__).
KINDS = {
    "API (api_handler: POST /cases)": ("app", {}, True),
    "workflow task (wf_initiate)": ("wf_initiate", {}, True),
    "stream consumer (on_case_stream: a new case)": ("on_case_stream", {}, True),
    "schedule (escalate_overdue_tasks)": ("escalate_overdue_tasks", {}, True),
    "API with tracing off": ("app", {"AWS_XRAY_SDK_ENABLED": "false"}, True),
    "API from sources only (no bytecode)": ("app", {}, False),
}

# Runs in the measured process, from the unzipped package. argv: handler name, two events as JSON.
FUNCTION = r"""
import json, os, sys, time
from types import SimpleNamespace
handler_name, events = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, os.getcwd())  # Lambda's /var/task comes first
wall, cpu = [time.perf_counter()], [time.process_time()]
def lap():
    wall.append(time.perf_counter()); cpu.append(time.process_time())
import app
lap()
context = SimpleNamespace(
    function_name="cms-dev-" + handler_name, aws_request_id="bench-1", memory_limit_in_mb=128,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:cms-dev-" + handler_name,
    get_remaining_time_in_millis=lambda: 60000, log_group_name="bench", log_stream_name="bench",
    function_version="$LATEST",
)
results = []
for event in events:
    results.append(getattr(app, handler_name)(event, context))
    lap()
root = os.path.realpath(os.getcwd())
specs = [getattr(m, "__spec__", None) for m in list(sys.modules.values())]
shipped = [s for s in specs if s and (s.origin or "").startswith(root) and s.origin.endswith(".py")]
def unchecked_hash_pyc(spec):
    try:
        with open(spec.cached, "rb") as f:
            return int.from_bytes(f.read(8)[4:8], "little") == 0b01  # PEP 552 flags: hash-based, source not checked
    except OSError:
        return False
with open("/proc/self/status") as status:  # VmHWM: this program's peak (ru_maxrss keeps the forking parent's)
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({
    "rss_mb": peak_kb / 1024,
    "wall": [b - a for a, b in zip(wall, wall[1:])], "cpu": [b - a for a, b in zip(cpu, cpu[1:])],
    "modules": len(shipped), "without_bytecode": sorted(s.name for s in shipped if not unchecked_hash_pyc(s)),
    "xray": "aws_xray_sdk" in sys.modules,
    "status": [str(r.get("statusCode", "")) if isinstance(r, dict) else "" for r in results],
}))
"""

FLOOR = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
w, c = time.perf_counter(), time.process_time()
import boto3
print(json.dumps({"wall": [time.perf_counter() - w], "cpu": [time.process_time() - c]}))
"""


def python(code: str, *args: str, cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """A fresh interpreter: isolated (-I: no user site, no PYTHON* variables), no site-packages (-S), no
    bytecode written (-B)."""
    out = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code, *args], cwd=cwd, env=env,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"child failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def api_event(body: dict[str, Any], user: Any) -> dict[str, Any]:
    """POST /cases as API Gateway's proxy integration delivers it, with the claims its Cognito authorizer checked."""
    claims = {
        "cognito:username": user.username, "cognito:groups": ",".join(user.groups), "custom:team": user.team or "",
    }
    return {
        "resource": "/cases", "path": "/cases", "httpMethod": "POST",
        "headers": {"content-type": "application/json", "accept": "application/json"},
        "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "body": json.dumps(body), "isBase64Encoded": False,
        "requestContext": {
            "resourcePath": "/cases", "httpMethod": "POST", "path": "/api/cases", "stage": "api",
            "requestId": "bench", "identity": {"sourceIp": "127.0.0.1"}, "authorizer": {"claims": claims},
        },
    }


def stream_event(case_id: str, stream_arn: str) -> dict[str, Any]:
    return {"Records": [{
        "eventID": f"bench-{case_id}", "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": REGION,
        "eventSourceARN": stream_arn,
        "dynamodb": {"Keys": {"PK": {"S": f"CASE#{case_id}"}, "SK": {"S": "CASE"}},
                     "SequenceNumber": f"1{len(case_id)}", "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }]}


def schedule_event() -> dict[str, Any]:
    return {"version": "0", "id": "bench", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-12-01T00:00:00Z", "region": REGION, "resources": [], "detail": {}}


class Stack:
    """moto with the project's resources, and the environment a deployed function would have."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        os.environ.update(MOTO_PORT=str(port), AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                          AWS_DEFAULT_REGION=REGION)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.server.start()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.resources = provision(self.endpoint, REGION, table_name="cms-bench", bucket_name="cms-bench-documents")
        sfn = client("stepfunctions", self.endpoint, REGION)
        self.workflow_arn = sfn.create_state_machine(
            name="cms-bench-case-workflow", roleArn="arn:aws:iam::123456789012:role/bench",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        )["stateMachineArn"]
        self.stream_arn = client("dynamodb", self.endpoint, REGION).describe_table(
            TableName=self.resources.table_name)["Table"].get("LatestStreamArn", "")

    def cases(self, count: int) -> list[str]:
        """The ids of `count` new cases (the demo set, repeated)."""
        bodies = [DEMO_CASES[i % len(DEMO_CASES)] for i in range(count)]
        seed_demo_cases(self.resources, bodies)
        pages = client("dynamodb", self.endpoint, REGION).get_paginator("scan").paginate(
            TableName=self.resources.table_name, FilterExpression="SK = :case",
            ExpressionAttributeValues={":case": {"S": "CASE"}}, ProjectionExpression="PK",
        )
        return [item["PK"]["S"].removeprefix("CASE#") for page in pages for item in page["Items"]]

    def environment(self, handler: str, package: Path) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": "UTC",
            # What Lambda sets
            "LAMBDA_TASK_ROOT": str(package), "AWS_LAMBDA_FUNCTION_NAME": f"cms-dev-{handler}",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "_X_AMZN_TRACE_ID": TRACE_HEADER,
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            # What the template sets (the dev stage's environment, the stack's resources)
            **_stage_environment(), "TABLE_NAME": self.resources.table_name, "BUCKET_NAME": self.resources.bucket_name,
            "CASE_WORKFLOW_ARN": self.workflow_arn, "CASES_STREAM_ARN": self.stream_arn,
            "COGNITO_USER_POOL_ID": self.resources.user_pool_id,
            "COGNITO_CLIENT_ID": self.resources.user_pool_client_id,
            # moto instead of AWS; metrics' EMF lines would only fill the pipe
            "AWS_ENDPOINT_URL": self.endpoint, "POWERTOOLS_METRICS_DISABLED": "true",
        }

    def stop(self) -> None:
        self.server.stop()


def _stage_environment(stage: str = "dev") -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def main() -> None:
    if not ZIP.is_file():
        sys.exit(f"no {ZIP}: run `make package` first")
    size = ZIP.stat().st_size
    with zipfile.ZipFile(ZIP) as package:
        names = package.namelist()
    print(f"package: {ZIP.relative_to(ROOT)}: {size / 2**20:.1f} MB, {len(names)} files, "
          f"{sum(n.endswith('.pyc') for n in names)} .pyc; python {sys.version.split()[0]}; {RUNS} runs per kind, "
          "alternating with the floor")
    site_packages = sysconfig.get_paths()["purelib"]
    stack = Stack()
    scratch = Path(tempfile.mkdtemp(prefix="cold-start-"))
    try:
        folder, sources_only = scratch / "task", scratch / "sources-only"
        with zipfile.ZipFile(ZIP) as package:
            package.extractall(folder)
            package.extractall(sources_only, [name for name in package.namelist() if "__pycache__/" not in name])
        for path in scratch.rglob("*"):  # read-only, as Lambda's /var/task
            path.chmod(path.stat().st_mode & ~0o222)
        users = {u.username: u for u in DEMO_USERS}
        cases = iter(stack.cases((RUNS + 1) * 2 * 2))  # workflow and stream kinds: two per run each
        floor: list[dict[str, Any]] = []
        measured: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
        for run in range(RUNS + 1):  # run 0 warms the page cache and is not counted
            for kind, (handler, extra_env, bytecode) in KINDS.items():
                task = folder if bytecode else sources_only
                if handler == "app":
                    events = [api_event(dict(DEMO_CASES[i][1]), users[DEMO_CASES[i][0]]) for i in (0, 1)]
                elif handler == "wf_initiate":
                    events = [{"caseId": next(cases), "executionId": f"bench-{run}-{i}"} for i in (0, 1)]
                elif handler == "on_case_stream":
                    events = [stream_event(next(cases), stack.stream_arn) for _ in (0, 1)]
                else:
                    events = [schedule_event(), schedule_event()]
                env = {**stack.environment(handler, task), **extra_env}
                result = python(FUNCTION, handler, json.dumps(events), cwd=task, env=env)
                base = python(FLOOR, site_packages, cwd=scratch, env={"PATH": "/usr/bin:/bin"})
                if run:
                    measured[kind].append(result)
                    floor.append(base)
    finally:
        stack.stop()
        for path in scratch.rglob("*"):
            path.chmod(path.stat().st_mode | 0o200)
        shutil.rmtree(scratch)
    report(floor, measured)


def report(floor: list[dict[str, Any]], measured: dict[str, list[dict[str, Any]]]) -> None:
    floor_wall = statistics.median([f["wall"][0] for f in floor])
    floor_cpu = statistics.median([f["cpu"][0] for f in floor])
    print(f"\nfloor: precompiled `import boto3`, median of {len(floor)}: {floor_wall * 1000:.0f} ms wall, "
          f"{floor_cpu * 1000:.0f} ms CPU\n")
    print("| function (kind) | `import app` | ratio to floor | first invocation (container build) | "
          "import + first, ratio | warm invocation | CPU: import / first / warm | import CPU ratio | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind, runs in measured.items():
        imp, first, warm = (statistics.median([r["wall"][i] for r in runs]) for i in range(3))
        cpu = [statistics.median([r["cpu"][i] for r in runs]) for i in range(3)]
        print(f"| {kind} | {imp * 1000:.0f} ms | **{imp / floor_wall:.2f}×** | {first * 1000:.0f} ms | "
              f"{(imp + first) / floor_wall:.2f}× | {warm * 1000:.0f} ms | "
              f"{' / '.join(f'{c * 1000:.0f}' for c in cpu)} ms | {cpu[0] / floor_cpu:.2f}× | "
              f"{max(r['rss_mb'] for r in runs):.0f} MB |")
    print(f"\nmodelled on Lambda (CPU time x {FULL_VCPU_MB} MB / memory: a function gets one vCPU at {FULL_VCPU_MB} "
          "MB and CPU in proportion below; waiting on AWS calls not included): cold start (init + first "
          "invocation) / warm invocation")
    print("| function (kind) | " + " | ".join(f"{mb} MB" for mb in MEMORY_MB) + " |")
    print("|---|" + "---:|" * len(MEMORY_MB))
    for kind, runs in measured.items():
        cold = statistics.median([r["cpu"][0] + r["cpu"][1] for r in runs])
        warm = statistics.median([r["cpu"][2] for r in runs])
        slowdown = [max(1.0, FULL_VCPU_MB / mb) for mb in MEMORY_MB]
        print(f"| {kind} | " + " | ".join(f"{cold * x:.2f} s / {warm * x * 1000:.0f} ms" for x in slowdown) + " |")
    every = [r for kind, runs in measured.items() if KINDS[kind][2] for r in runs]
    missing = sorted({name for r in every for name in r["without_bytecode"]})
    print(f"\nbytecode (every row but the last): of the {max(r['modules'] for r in every)} modules a function "
          "imported from the package, "
          f"{len(missing)} had no unchecked-hash .pyc{': ' + ', '.join(missing) if missing else ''}; "
          f"X-Ray loaded in {sum(r['xray'] for r in every)} of {len(every)} "
          f"such processes (tracing off in {len(measured['API with tracing off'])}); "
          f"API statuses: {sorted({s for r in measured[next(iter(measured))] for s in r['status']})}")


if __name__ == "__main__":
    main()

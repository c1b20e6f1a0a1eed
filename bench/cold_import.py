"""Cold import of the Chalice app vs a bare `import boto3`, each in a fresh interpreter.

Run from the repo root:  .venv/bin/python bench/cold_import.py [runs]

Prints figures only (no assertions). Runs are interleaved (app, boto3, app, boto3, ...) so drift
on the machine affects both sides alike. One untimed run of each comes first so byte-code caches
(__pycache__) exist: "cold" here means a new process, as in a new Lambda container, not a cold disk.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys

from harness import ROOT
from harness.stats import percentile, spread_row

PY = sys.executable
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 21

SNIPPETS = {
    "import app": "import time; t=time.perf_counter(); import app; print(time.perf_counter()-t)",
    "import boto3": "import time; t=time.perf_counter(); import boto3; print(time.perf_counter()-t)",
}

# The first request's container build: import app, build the container from settings (no network),
# then create the DynamoDB botocore clients the repository will use (pynamodb creates them lazily on
# the first request; all item types share one connection, so the later ones should cost nothing).
BUILD_SNIPPET = """
import time
t0 = time.perf_counter()
import app
t1 = time.perf_counter()
import chalicelib.auth  # claims only; PyJWT/cryptography load only where tokens are verified here
t1b = time.perf_counter()
from chalicelib import bootstrap
from chalicelib.settings import Settings
c = bootstrap.build(Settings.from_env({
    'AUTH_MODE': 'apigateway', 'TABLE_NAME': 'bench', 'AWS_REGION': 'us-east-1',
    'AWS_ENDPOINT_URL': 'http://127.0.0.1:1',
}))
t2 = time.perf_counter()
m = c.cases._repo._m
m.connection.client
t3 = time.perf_counter()
for model in (m.case, m.event, m.comment, m.counter, m.idempotency):
    model._get_connection().connection.client
t4 = time.perf_counter()
print(t1 - t0, t1b - t1, t2 - t1b, t3 - t2, t4 - t3)
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AUTH_MODE", "COGNITO_", "LOCAL_STACK"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        AWS_XRAY_SDK_ENABLED="false", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return env


def run(code: str, *extra: str) -> str:
    out = subprocess.run(
        [PY, *extra, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"child failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return out.stdout.strip()


def importtime_rows() -> list[tuple[int, int, int, str]]:
    """(self us, cumulative us, depth, module) for one `python -X importtime -c "import app"`."""
    out = subprocess.run(
        [PY, "-X", "importtime", "-c", "import app"], cwd=ROOT, env=_env(), capture_output=True, text=True
    )
    rows = []
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[0].startswith("import time:"):
            continue
        try:
            self_us, cum_us = int(parts[0].split(":")[1]), int(parts[1])
        except ValueError:
            continue  # the header line
        name = parts[2].rstrip()
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append((self_us, cum_us, depth, name.strip()))
    return rows


def main() -> None:
    print(f"python: {PY}\nruns per variant: {RUNS} (interleaved, after 1 untimed warm-up each)")
    for code in SNIPPETS.values():  # warm-up: byte-code caches, page cache
        run(code)
    times: dict[str, list[float]] = {name: [] for name in SNIPPETS}
    for _ in range(RUNS):
        for name, code in SNIPPETS.items():
            times[name].append(float(run(code)))

    print("\n| variant | median (s) | p90 (s) | min (s) | max (s) |\n|---|---|---|---|---|")
    for name, values in times.items():
        print(spread_row(f"`{name}`", values))
    ratio = statistics.median(times["import app"]) / statistics.median(times["import boto3"])
    print(f"\nratio of medians app/boto3: {ratio:.2f}x (goal <= 1.5x)")

    build_runs = max(5, RUNS // 3)
    rows = [tuple(float(x) for x in run(BUILD_SNIPPET).split()) for _ in range(build_runs)]
    cols = list(zip(*rows))
    labels = (
        "import app",
        "import chalicelib.auth (claims; no PyJWT when AUTH_MODE=apigateway)",
        "rest of bootstrap.build(Settings) (pynamodb, botocore; no network)",
        "first botocore client (transaction connection)",
        "clients for the other 4 item types (they share the first connection)",
    )
    print(f"\nfirst request's container build, {build_runs} fresh processes (median / p90, s):")
    print("| step | median (s) | p90 (s) |\n|---|---|---|")
    for label, col in zip(labels, cols):
        print(f"| {label} | {statistics.median(col):.3f} | {percentile(list(col), 0.9):.3f} |")
    totals = [sum(r) for r in rows]
    print(f"| **total** | {statistics.median(totals):.3f} | {percentile(totals, 0.9):.3f} |")

    imports = importtime_rows()
    print("\n`python -X importtime -c 'import app'` (one run): direct imports of app, cumulative ms")
    for _, cum_us, _, name in sorted((r for r in imports if r[2] == 1), key=lambda r: -r[1])[:10]:
        print(f"  {cum_us / 1000:7.1f}  {name}")
    print("heaviest single modules (self time, ms):")
    for self_us, _, _, name in sorted(imports, key=lambda r: -r[0])[:10]:
        print(f"  {self_us / 1000:7.1f}  {name}")


if __name__ == "__main__":
    main()

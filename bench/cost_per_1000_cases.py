"""What 1,000 cases cost on AWS (us-east-1), from the per-case counts the local benchmarks measured.

Run `make package` first: the fixed monthly costs are counted from the packaged template (build/sam.yaml).

Nothing here talks to AWS: the counts come from bench/results.md (bench/workflow_throughput.py and
bench/api_requests.py on the local system; CPU time per function kind from bench/cold_start.py), each kind's
Lambda memory from the template (.chalice/config.json), the prices are AWS's public us-east-1 list prices as assumed on
2026-11-25 (no live lookup is possible from this machine: check them against the pricing pages before relying
on the totals), and every other figure is an assumption named below. Free tiers are ignored.
"""
from __future__ import annotations

import collections
import sys
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "build" / "sam.yaml"

# --- prices (USD, us-east-1, public list prices) -----------------------------------------------------------
PRICE = {
    "sfn_transition": 0.025 / 1_000,          # Step Functions Standard, per state transition
    "lambda_request": 0.20 / 1_000_000,       # Lambda, per request
    "lambda_gb_second": 0.0000166667,         # Lambda x86, per GB-second
    "ddb_write_unit": 0.625 / 1_000_000,      # DynamoDB on-demand, per write request unit (since Nov 2024)
    "ddb_read_unit": 0.125 / 1_000_000,       # DynamoDB on-demand, per read request unit
    "apigw_request": 3.50 / 1_000_000,        # API Gateway REST API, per request (first 333 M)
    "cloudfront_request": 0.0100 / 10_000,    # CloudFront HTTPS requests, North America
    "xray_trace": 5.00 / 1_000_000,           # X-Ray traces recorded
    "logs_gb": 0.50,                          # CloudWatch Logs ingestion, per GB
    "fargate_vcpu_hour": 0.04048,             # Fargate Linux x86, per vCPU-hour
    "fargate_gb_hour": 0.004445,              # Fargate, per GB-hour
    "s3_put": 0.005 / 1_000,                  # S3 Standard PUT/POST/LIST
    "s3_get": 0.0004 / 1_000,                 # S3 Standard GET
    "trail_data_event": 0.10 / 100_000,       # CloudTrail data events
    "interface_endpoint_az_hour": 0.01,       # PrivateLink interface endpoint, per AZ-hour
    "cache_t4g_micro_hour": 0.016,            # ElastiCache cache.t4g.micro (Redis OSS), per node-hour
    "kms_key_month": 1.00,                    # KMS customer managed key
    "secret_month": 0.40,                     # Secrets Manager secret
    "alarm_metric_month": 0.10,               # CloudWatch standard-resolution alarm, per metric
    "dashboard_month": 3.00,                  # CloudWatch dashboard
}
HOURS_PER_MONTH = 730

# --- measured per case (bench/results.md, workflow_throughput.py, happy path) -----------------------------------
# DynamoDB operations per case: the workflow side (Lambda tasks + stream handler) plus the API routes (people's
# actions and the benchmark's polling, which stands in for people looking at the case).
MEASURED = {
    "GENERAL": {
        "transitions": 6, "task_invocations": 4, "stream_records": 26.2, "api_requests": 14.2,
        "GetItem": 11.12 + 15.46, "Query": 3.12 + 2.0, "TransactWriteItems": 6.06 + 2.0,
        "PutItem": 1.0, "UpdateItem": 1.0, "DeleteItem": 1.0,
    },
    "COMPLAINT": {
        "transitions": 10, "task_invocations": 7, "stream_records": 57.0, "api_requests": 24.6,
        "GetItem": 18.0 + 30.9, "Query": 7.0 + 10.05, "TransactWriteItems": 10.0 + 5.0,
        "PutItem": 3.0, "UpdateItem": 1.0, "DeleteItem": 3.0,
    },
}

# --- assumptions (not measured on AWS) ------------------------------------------------------------------------
ASSUME: dict[str, Any] = {
    # Request units per operation. Items are small (< 1 KB): a transaction writes ~2.5 items at 2 WRU each plus
    # ~3 index updates (a case item is in 3 GSIs with projection ALL); other writes 1 WRU + 1 index update;
    # pynamodb reads are eventually consistent (0.5 RRU per 4 KB); a Query page reads ~6 KB.
    "wru": {"TransactWriteItems": 8.0, "PutItem": 2.0, "UpdateItem": 2.0, "DeleteItem": 2.0},
    "rru": {"GetItem": 0.5, "Query": 1.0},
    # Stream handler invocations: at most one per stream record (low traffic: each write its own batch), for each
    # of the stream's two consumers (on_case_stream, publish_case_data; the benchmarks ran before the second).
    "stream_invocations_per_record": 1.0,
    "stream_consumers": 2,
    # The case data product writes one S3 object per change of a case item: about one per transaction.
    "data_product_puts_per_transaction": 1.0,
    # Lambda duration: CPU time scaled by the memory's share of a vCPU, plus time waiting on AWS calls, plus the
    # cold starts' init (billed since 2025-08). Waiting: ~3 calls of ~7 ms per invocation. Cold: at this volume
    # (about 1.4 cases an hour) environments are often reclaimed between a case's steps: 1 invocation in 4.
    "io_seconds_per_invocation": 0.020,
    "cold_start_fraction": 0.25,
    # Logs: ~1.5 KB per Lambda invocation (Powertools JSON + platform lines); ~1 KB per Step Functions event,
    # 3 events per state (LoggingConfiguration Level ALL, no execution data).
    "log_kb_per_invocation": 1.5,
    "log_kb_per_transition": 3.0,
    # X-Ray samples 1 request/s plus 5 % (default rule): at low traffic nearly every API request is a trace.
    "traced_fraction_of_api_requests": 1.0,
}

# --- measured per function kind (bench/results.md, bench/cold_start.py: CPU seconds on this machine) ----------
# init: `import app` plus the first invocation's container build; warm: a typical invocation of the kind.
CPU_SECONDS = {
    "api": {"init": 0.415, "warm": 0.004},  # POST /cases
    "task": {"init": 0.410, "warm": 0.009},  # wf_initiate
    "stream": {"init": 0.409, "warm": 0.002},  # on_case_stream, a new case
}
FULL_VCPU_MB = 1769  # Lambda gives a function one vCPU at 1,769 MB, and CPU in proportion below that
KIND_OF_HANDLER = {"app": "api", "on_case_stream": "stream", "publish_case_data": "stream"}  # any other: a task

# One document (not part of the case figures above: GENERAL and COMPLAINT need no documents on the happy path).
DOCUMENT = {
    "transitions": 3,           # Prepare -> Process -> Record (document_workflow.asl.json, happy path)
    "invocations": 3,           # on_document_uploaded, doc_process_start, doc_process_finish
    "fargate_seconds": 90,      # assumed: image pull + start + processing; Fargate bills at least 60 s
    "fargate_vcpu": 1.0,        # ProcessorCpu default 1024
    "fargate_gb": 2.0,          # ProcessorMemory default 2048
    "s3_puts": 5,               # the upload + derived text, thumbnail, metadata, result (fargate/processor/sink.py)
    "s3_gets": 2,               # the processor's read + one download
    "ddb_wru": 20.0,            # assumed: register, mark processing, result, record, case resume
    "trail_data_events": 8,     # each S3 object call above plus HEADs
}



def fixed_per_month(template: dict[str, Any]) -> dict[str, float]:
    """What the stack costs whatever the number of cases, with the template's default parameters."""
    resources = template["Resources"].values()
    endpoints = [r for r in resources
                 if r["Type"] == "AWS::EC2::VPCEndpoint" and r["Properties"]["VpcEndpointType"] == "Interface"]
    az_hours = sum(len(r["Properties"]["SubnetIds"]) for r in endpoints) * HOURS_PER_MONTH
    alarms = [r for r in resources if r["Type"] == "AWS::CloudWatch::Alarm"]
    metrics = sum(len([m for m in a["Properties"].get("Metrics", []) if "MetricStat" in m]) or 1 for a in alarms)
    kinds = collections.Counter(r["Type"] for r in resources)
    keys, secrets, dashboards = (kinds[k] for k in ("AWS::KMS::Key", "AWS::SecretsManager::Secret",
                                                     "AWS::CloudWatch::Dashboard"))
    return {
        f"{len(endpoints)} interface endpoints in 2 AZs": az_hours * PRICE["interface_endpoint_az_hour"],
        "ElastiCache cache.t4g.micro x1": HOURS_PER_MONTH * PRICE["cache_t4g_micro_hour"],
        f"{keys} KMS key": keys * PRICE["kms_key_month"],
        f"{secrets} secret": secrets * PRICE["secret_month"],
        f"{len(alarms)} alarms on {metrics} metrics": metrics * PRICE["alarm_metric_month"],
        f"{dashboards} dashboard": dashboards * PRICE["dashboard_month"],
    }


def memory_mb(template: dict[str, Any]) -> dict[str, int]:
    """{kind: MemorySize} from the packaged template (the largest of a kind's functions)."""
    sizes: dict[str, int] = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            kind = KIND_OF_HANDLER.get(resource["Properties"]["Handler"].split(".", 1)[1], "task")
            sizes[kind] = max(sizes.get(kind, 0), resource["Properties"].get("MemorySize", 128))
    return sizes


def gb_seconds(kind: str, memory: dict[str, int]) -> float:
    """GB-s billed per invocation of a kind, on average (warm run, waiting, its share of cold starts)."""
    mb = memory[kind]
    slowdown = max(1.0, FULL_VCPU_MB / mb)
    cpu = CPU_SECONDS[kind]
    cpu_seconds = cpu["warm"] + ASSUME["cold_start_fraction"] * cpu["init"]
    seconds = cpu_seconds * slowdown + ASSUME["io_seconds_per_invocation"]
    return seconds * mb / 1024


def stream_invocations(counts: dict[str, float]) -> float:
    return counts["stream_records"] * ASSUME["stream_invocations_per_record"] * ASSUME["stream_consumers"]


def per_case(counts: dict[str, float], memory: dict[str, int]) -> tuple[dict[str, float], float, float, float]:
    """The cost of each item for one case; the case's Lambda invocations, write units and read units."""
    by_kind = {"task": counts["task_invocations"], "stream": stream_invocations(counts), "api": counts["api_requests"]}
    invocations = sum(by_kind.values())
    wru = sum(counts[op] * units for op, units in ASSUME["wru"].items())
    rru = sum(counts[op] * units for op, units in ASSUME["rru"].items())
    log_kb = invocations * ASSUME["log_kb_per_invocation"] + counts["transitions"] * ASSUME["log_kb_per_transition"]
    log_gb = log_kb / 1024 / 1024
    return {
        "Step Functions transitions": counts["transitions"] * PRICE["sfn_transition"],
        "Lambda requests": invocations * PRICE["lambda_request"],
        "Lambda duration": sum(n * gb_seconds(kind, memory) for kind, n in by_kind.items())
        * PRICE["lambda_gb_second"],
        "DynamoDB writes": wru * PRICE["ddb_write_unit"],
        "DynamoDB reads": rru * PRICE["ddb_read_unit"],
        "API Gateway": counts["api_requests"] * PRICE["apigw_request"],
        "CloudFront requests": counts["api_requests"] * PRICE["cloudfront_request"],
        "X-Ray traces": counts["api_requests"] * ASSUME["traced_fraction_of_api_requests"] * PRICE["xray_trace"],
        "CloudWatch Logs": log_gb * PRICE["logs_gb"],
        "S3 (data product rows)":
            counts["TransactWriteItems"] * ASSUME["data_product_puts_per_transaction"] * PRICE["s3_put"],
    }, invocations, wru, rru


def per_document(memory: dict[str, int]) -> float:
    d = DOCUMENT
    lambda_call = PRICE["lambda_request"] + gb_seconds("task", memory) * PRICE["lambda_gb_second"]
    fargate_hour = d["fargate_vcpu"] * PRICE["fargate_vcpu_hour"] + d["fargate_gb"] * PRICE["fargate_gb_hour"]
    return (
        d["transitions"] * PRICE["sfn_transition"]
        + d["invocations"] * lambda_call
        + d["fargate_seconds"] / 3600 * fargate_hour
        + d["s3_puts"] * PRICE["s3_put"] + d["s3_gets"] * PRICE["s3_get"]
        + d["ddb_wru"] * PRICE["ddb_write_unit"] + d["trail_data_events"] * PRICE["trail_data_event"]
    )


def main() -> None:
    if not TEMPLATE.is_file():
        sys.exit(f"no {TEMPLATE}: run `make package` first")
    template = yaml.safe_load(TEMPLATE.read_text())
    fixed = fixed_per_month(template)
    memory = memory_mb(template)
    print("Cost per 1,000 cases, us-east-1 list prices (USD), happy path, no documents; see the module docstring.\n")
    print("Lambda memory (template) and GB-s billed per invocation: " + ", ".join(
        f"{kind} {mb} MB {gb_seconds(kind, memory):.4f}" for kind, mb in sorted(memory.items())) + "\n")
    rows: dict[str, dict[str, float]] = {}
    totals = {}
    for case_type, counts in MEASURED.items():
        costs, invocations, wru, rru = per_case(counts, memory)
        rows[case_type] = costs
        totals[case_type] = sum(costs.values()) * 1000
        print(f"{case_type}: per case {counts['transitions']} transitions, {invocations:.1f} Lambda invocations "
              f"({counts['task_invocations']} tasks, <= {stream_invocations(counts):.1f} stream, "
              f"{counts['api_requests']} API), "
              f"{wru:.1f} WRU, {rru:.1f} RRU")
    print()
    print("| per 1,000 cases | " + " | ".join(MEASURED) + " |")
    print("|---|" + "---:|" * len(MEASURED))
    for item in next(iter(rows.values())):
        print(f"| {item} | " + " | ".join(f"${rows[t][item] * 1000:.3f}" for t in MEASURED) + " |")
    print("| **total** | " + " | ".join(f"**${totals[t]:.2f}**" for t in MEASURED) + " |")
    print(f"\nper uploaded document (Fargate {DOCUMENT['fargate_seconds']} s at {DOCUMENT['fargate_vcpu']} vCPU / "
          f"{DOCUMENT['fargate_gb']} GB, workflow, S3, trail): ${per_document(memory):.5f}; "
          f"1,000 documents: ${per_document(memory) * 1000:.2f}")
    print("\nfixed per month (template defaults, whatever the volume):")
    for item, cost in fixed.items():
        print(f"- {item}: ${cost:.2f}")
    print(f"- total: ${sum(fixed.values()):.2f}")


if __name__ == "__main__":
    main()
